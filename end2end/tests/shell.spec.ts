import { expect, test, type Page } from "@playwright/test";
import { hydrated } from "./helpers";

test.describe("app shell", () => {
  test("home renders on the server, hydrates, and switches language", async ({ page }) => {
    await page.goto("/", { waitUntil: "domcontentloaded" });
    await expect(page.locator("h1")).toHaveText("See what your car recorded");
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await hydrated(page);

    await page.getByTestId("language-switch").click();
    await expect(page.locator("h1")).toHaveText("查看您的车辆记录了什么");
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");

    // The choice is remembered across a reload (cookie read on the server).
    await page.reload();
    await expect(page.locator("h1")).toHaveText("查看您的车辆记录了什么");
    await hydrated(page);
    await page.getByTestId("language-switch").click();
    await expect(page.locator("h1")).toHaveText("See what your car recorded");
  });

  test("the browser's Accept-Language picks Chinese on a first visit", async ({ browser }) => {
    const context = await browser.newContext({ locale: "zh-CN" });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page.locator("h1")).toHaveText("查看您的车辆记录了什么");
    await context.close();
  });

  test("unknown paths answer 404 with a page that leads home", async ({ page }) => {
    const response = await page.goto("/no/such/page");
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId("not-found")).toBeVisible();
    await hydrated(page);
    await page.getByRole("link", { name: "Back to the home page" }).click();
    await expect(page).toHaveURL(/\/$/);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the language switch works as a plain form", async ({ page }) => {
    await page.goto("/no/such/page");
    await expect(page.locator("[data-hydrated]")).toHaveAttribute("data-hydrated", "false");
    await page.getByTestId("language-switch").click();
    await expect(page.locator("h1")).toHaveText("页面不存在");
    // Sent back to the page it was on.
    expect(new URL(page.url()).pathname).toBe("/no/such/page");
  });
});
