import { expect, test } from "@playwright/test";
import { CRASH_VIN, portal, signIn, totp } from "./helpers";

test("staff: TOTP sign-in, look up a VIN, open a case, read the crash record, export to the case; the owner sees both", async ({ page }) => {
  const created = portal("admin", "add-staff", "agent@example.com", "--role", "support");
  const password = created.match(/first password \(shown once\): (\S+)/)![1];
  const secret = created.match(/enter the secret by hand: (\S+)/)![1];

  // A wrong code is refused like a wrong password.
  await page.goto("/signin");
  await page.getByLabel("E-mail or phone number").fill("agent@example.com");
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("One-time code (staff only)").fill(totp(secret) === "000000" ? "111111" : "000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("form-error")).toBeVisible();

  await page.getByLabel("E-mail or phone number").fill("agent@example.com");
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("One-time code (staff only)").fill(totp(secret));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff$/);

  // The API reference for support tooling, drawn from the OpenAPI document.
  await page.getByRole("link", { name: "API reference" }).click();
  await expect(page.getByTestId("api-operations")).toContainText("POST /api/v1/ingest");
  await page.goto("/staff");

  await page.getByTestId("lookup-q").fill(CRASH_VIN);
  await page.getByRole("button", { name: "Look up" }).click();
  const found = page.getByTestId("lookup-result");
  await expect(found).toContainText(CRASH_VIN);
  await expect(found).toContainText("owner@example.com");

  await found.getByLabel("Subject").fill("Brake complaint after the collision");
  await found.getByLabel("Purpose (shown to the owner)").fill("answer the owner's brake complaint");
  await found.getByRole("button", { name: "Open a case on this vehicle" }).click();
  await expect(page).toHaveURL(/\/staff\/cases\/C-\d{4}-\d{6}$/);
  const caseNo = page.url().split("/").pop()!;
  await expect(page.getByTestId("case-page")).toContainText(caseNo);

  await page.getByTestId("case-events").locator("tr", { has: page.locator('[data-event-type="collision"]') }).first().getByRole("link").click();
  await expect(page.getByTestId("event-detail")).toBeVisible();
  await expect(page.locator("#edr")).toBeVisible();
  await page.getByRole("link", { name: "Back to case" }).first().click();

  const form = page.getByTestId("case-export-form");
  await form.getByLabel("Recipient").fill("Shanghai insurer");
  await form.getByLabel("Legal basis").fill("owner's written consent");
  await form.getByRole("button", { name: "Export to the case" }).click();
  // The bundle of the crash vehicle is built while the page waits; on a
  // database loaded moments before, that can take a while.
  await expect(page.getByTestId("exported")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("case-exports")).toContainText("Shanghai insurer");
  await expect(page.getByTestId("case-timeline")).toContainText("staff_read");

  // The owner sees the read and the export, with the case, purpose and role.
  await page.getByTestId("sign-out").click();
  await signIn(page);
  await page.goto(`/vehicles/${CRASH_VIN}/access`);
  const log = page.getByTestId("access-log");
  const read = log.locator('tr[data-action="staff_read"]').first();
  await expect(read).toContainText(caseNo);
  await expect(read).toContainText("answer the owner's brake complaint");
  await expect(read).toContainText("Support staff");
  const exported = log.locator('tr[data-action="export"]', { hasText: "Shanghai insurer" });
  await expect(exported).toContainText(caseNo);
  await expect(exported).toContainText("owner's written consent");
  await expect(log).not.toContainText("agent@example.com");
});
