import { Browser, expect, Page } from "@playwright/test";

/** Clicks that land before the WebAssembly has hydrated the page are lost. */
export async function waitForHydration(page: Page) {
  await expect(page.locator(".app[data-hydrated=true]")).toBeVisible();
}

export const ownerEmail = "owner@example.com";
export const ownerPassword = "correct horse battery";

/**
 * Signs in as the owner, creating the account through the one-time setup
 * page if no spec has done so yet (specs share one database per run).
 */
export async function signInAsOwner(page: Page) {
  await page.goto("/admin");
  if (page.url().endsWith("/setup")) {
    await page.getByLabel("Your email").fill(ownerEmail);
    await page.getByLabel(/^Password/).fill(ownerPassword);
    await page.getByRole("button", { name: "Create account" }).click();
  } else if (page.url().includes("/login")) {
    await page.getByLabel("Email").fill(ownerEmail);
    await page.getByLabel("Password").fill(ownerPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

/**
 * A new sales user, invited by the owner through Settings, signed in in a
 * browser context of their own.
 */
export async function newSalesUser(browser: Browser, email: string): Promise<Page> {
  const owner = await (await browser.newContext()).newPage();
  await signInAsOwner(owner);
  await owner.goto("/admin/settings");
  await waitForHydration(owner);
  await owner.getByLabel("Email", { exact: true }).fill(email);
  await owner.getByLabel("Role", { exact: true }).selectOption("sales");
  await owner.getByRole("button", { name: "Create invitation link" }).click();
  const link = (await owner.locator("code.invite-link").textContent()) ?? "";
  const sales = await (await browser.newContext()).newPage();
  await sales.goto(link);
  await sales.getByLabel(/^Password/).fill(ownerPassword);
  await sales.getByRole("button", { name: "Create my account" }).click();
  await expect(sales.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  return sales;
}
