import { expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { join } from "node:path";

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

/** Runs the portal CLI against the server's own database. */
export function portal(...args: string[]): string {
  const bin = join(__dirname, "..", "..", process.env.PORTAL_BIN ?? "target/debug/portal");
  return execFileSync(bin, args, {
    env: { ...process.env, PORTAL_DATA_DIR: process.env.E2E_DATA_DIR!, PORTAL_LOG: "error" },
    encoding: "utf8",
  });
}

/** The code an authenticator app shows now for a base32 secret (RFC 6238, SHA-1, 6 digits, 30 s). */
export function totp(secret: string, at = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

/** Ticks or unticks "Show the routes of my vehicles" on the account page (English) and saves. */
export async function showLocation(page: Page, show: boolean) {
  await page.goto("/account");
  await hydrated(page);
  const form = page.getByTestId("location-form");
  await form.getByLabel("Show the routes of my vehicles").setChecked(show);
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toContainText("location is saved");
}
