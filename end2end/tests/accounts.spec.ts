import { expect, test } from "@playwright/test";
import { DEMO_OWNER, DEMO_PASSWORD, hydrated, portal } from "./helpers";

// The third demo vehicle (Hong Kong), taken from the demo owner for the sign-up test.
const VIN = "LDPA1B2C6RS000102";

test("sign up with a claim code, sign in, see the vehicle, sign out", async ({ page }) => {
  portal("admin", "transfer", VIN, "--at", "2026-10-15");
  const issued = portal("admin", "claim-code", VIN);
  const code = issued.match(/claim code for \S+: (\S+)/)![1];

  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("E-mail or phone number").fill("new.owner@example.com");
  await page.getByLabel("Password").fill("a-long-new-password-1");
  await page.getByLabel("VIN (17 characters)").fill(VIN.toLowerCase());
  await page.getByLabel("Claim code").fill(code);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/signin\?created=1/);
  await expect(page.getByRole("status")).toContainText("Your account is ready");
  await page.getByLabel("E-mail or phone number").fill("new.owner@example.com");
  await page.getByLabel("Password").fill("a-long-new-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.getByTestId("vehicle-list")).toContainText(VIN);
  // The new owner's period starts at the transfer, in the vehicle's zone.
  await expect(page.getByTestId("vehicle-list")).toContainText("2026-10-15 00:00 +08:00");
  await page.getByTestId("sign-out").click();
  await expect(page.getByTestId("nav-sign-in")).toBeVisible();
  await expect(page.getByTestId("vehicle-list")).toHaveCount(0);
});

test("a wrong password shows one translated message", async ({ page }) => {
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("E-mail or phone number").fill(DEMO_OWNER);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("The account or the password is wrong.");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign in, see the vehicles, sign out", async ({ page }) => {
    await page.goto("/signin");
    await page.getByLabel("E-mail or phone number").fill(DEMO_OWNER);
    await page.getByLabel("Password").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("vehicle-list")).toContainText("LDPA1B2C0RS000100".slice(0, 8));
    await page.goto("/account");
    await expect(page.getByTestId("account-name")).toHaveText(DEMO_OWNER);
    await page.getByTestId("sign-out").click();
    await expect(page.getByTestId("nav-sign-in")).toBeVisible();
  });
});
