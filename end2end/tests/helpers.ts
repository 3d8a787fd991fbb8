import { expect, type Page } from "@playwright/test";

/** The demo owner (`portal serve --demo-if-empty`). */
export const DEMO_OWNER = "owner@example.com";
export const DEMO_PASSWORD = "demo-owner-2021";
/** The first demo vehicle (Shanghai): its log ends with a crash. */
export const CRASH_VIN = "LDPA1B2C2RS000100";

/** Waits until the page has hydrated (the layout marks it). */
export async function hydrated(page: Page) {
  await expect(page.locator("[data-hydrated]")).toHaveAttribute("data-hydrated", "true");
}

/** Signs in as the demo owner through the sign-in form (English labels). */
export async function signIn(page: Page) {
  await page.goto("/signin");
  await page.getByLabel("E-mail or phone number").fill(DEMO_OWNER);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
}
