import { expect, Page } from "@playwright/test";

/** Clicks that land before the WebAssembly has hydrated the page are lost. */
export async function waitForHydration(page: Page) {
  await expect(page.locator(".app[data-hydrated=true]")).toBeVisible();
}
