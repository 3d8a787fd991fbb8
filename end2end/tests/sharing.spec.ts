import { expect, test } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CRASH_VIN, hydrated, portal, signIn } from "./helpers";

/** A date `days` from today, as a date field takes it. */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

test("sharing: the owner grants an insurer telemetry and events, the insurer opens the link, the owner revokes it", async ({ page, browser, baseURL }) => {
  await signIn(page);
  await page.goto(`/vehicles/${CRASH_VIN}/sharing`);
  await hydrated(page);
  const form = page.getByTestId("grant-form");
  await form.getByLabel("Recipient (a name you will recognise)").fill("Pacific Insurance, claims");
  await form.getByLabel("Who they are").selectOption("insurer");
  await form.getByLabel("Purpose (the recipient sees it)").fill("claim for the October collision");
  await form.getByLabel("Crash records (EDR)").setChecked(false);
  await form.getByLabel("From (vehicle time)").fill("2026-10-01T00:00");
  await form.getByLabel("To (vehicle time)").fill("2026-10-31T00:00");
  await form.getByLabel("Access ends on (at most one year from today)").fill(inDays(30));
  await form.getByTestId("grant-submit").click();

  await expect(page.getByTestId("grant-issued")).toBeVisible();
  const link = await page.getByTestId("grant-link").getAttribute("href");
  expect(link).toMatch(/^\/shared\/vdg_[0-9a-f]{64}$/);
  await expect(page.getByTestId("grants").locator('tr[data-status="active"]')).toContainText("Pacific Insurance, claims");

  // The insurer, in a browser of their own.
  const context = await browser.newContext({ baseURL });
  const insurer = await context.newPage();
  await insurer.goto(link!);
  await expect(insurer).toHaveURL(new RegExp(`/vehicles/${CRASH_VIN}$`));
  await expect(insurer.getByTestId("shared-nav")).toBeVisible();
  await insurer.goto(`/vehicles/${CRASH_VIN}/events?group=crash`);
  await expect(insurer.locator('[data-event-type="collision"]').first()).toBeVisible();
  await insurer.goto(`/vehicles/${CRASH_VIN}/access`);
  await expect(insurer.getByTestId("access-log")).toHaveCount(0);

  // Every read is on the owner's access page, with the recipient and purpose.
  await page.goto(`/vehicles/${CRASH_VIN}/access`);
  const read = page.getByTestId("access-log").locator('tr[data-action="grant_read"]').first();
  await expect(read).toContainText("Pacific Insurance, claims");
  await expect(read).toContainText("claim for the October collision");
  await expect(page.getByTestId("access-log").locator('tr[data-action="grant_refused"]').first()).toContainText("outside the grant's scope");

  // Revoked: the insurer's next page is refused.
  await page.goto(`/vehicles/${CRASH_VIN}/sharing`);
  await hydrated(page);
  await page.getByTestId("revoke-grant").first().click();
  await expect(page.getByTestId("grant-revoked")).toBeVisible();
  await expect(page.getByTestId("grants").locator('tr[data-status="revoked"]')).toContainText("Pacific Insurance, claims");
  const refused = await insurer.request.get(`/api/v1/vehicles/${CRASH_VIN}`);
  expect(refused.status()).toBe(404);
  await context.close();
});

test("live: a sample stored while the page is open appears on it", async ({ page }) => {
  await signIn(page);
  await page.goto(`/vehicles/${CRASH_VIN}/live`);
  await hydrated(page);
  await expect(page.getByTestId("live-on")).toBeVisible();
  const file = join(tmpdir(), `live-${Date.now()}.ndjson`);
  writeFileSync(file, JSON.stringify({ kind: "sample", vin: CRASH_VIN, t: new Date().toISOString(), speed_kmh: 88.5 }) + "\n");
  portal("import", file);
  await expect(page.getByTestId("live-arrived")).toContainText("88.5", { timeout: 15_000 });
});

test("privacy zones: the owner adds a zone from the account page, a radius under 200 m is held back, and removes it", async ({ page }) => {
  await signIn(page);
  await page.goto("/account");
  await page.getByTestId("privacy-zones-link").click();
  await expect(page).toHaveURL(/\/account\/privacy-zones$/);
  await hydrated(page);
  const form = page.getByTestId("zone-form");
  // Far from every demo drive: the other tests' data stays as it is.
  await form.getByLabel("Name (only you see it)").fill("Cabin");
  await form.getByLabel("Latitude of the centre").fill("-45.0312");
  await form.getByLabel("Longitude of the centre").fill("168.6626");
  // Under 200 m the browser itself holds the form back (the server refuses
  // it too, naming the field: tests/api/privacy.rs).
  const radius = form.getByLabel("Radius in metres (at least 200)");
  await radius.fill("150");
  await form.getByTestId("zone-submit").click();
  expect(await radius.evaluate((el) => (el as HTMLInputElement).validity.rangeUnderflow)).toBe(true);
  await expect(page.getByTestId("zone-added")).toHaveCount(0);
  await radius.fill("400");
  await form.getByTestId("zone-submit").click();
  await expect(page.getByTestId("zone-added")).toBeVisible();
  const row = page.getByTestId("zones").locator("tr", { hasText: "Cabin" });
  await expect(row).toContainText("-45.03120, 168.66260");
  await row.getByTestId("remove-zone").click();
  await expect(page.getByTestId("zone-removed")).toBeVisible();
  await expect(page.getByTestId("zones").locator("tr", { hasText: "Cabin" })).toHaveCount(0);
});
