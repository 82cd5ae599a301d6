import { test, expect, Page } from "@playwright/test";
import { signInAsOwner } from "./support";

test.use({ viewport: { width: 360, height: 740 } });

/** How far the page reaches past the screen's right edge, in pixels. */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test("admin pages fit a phone: wide tables scroll inside themselves", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/contacts");
  const contact = page.locator("table.list tbody a").first();
  await expect(contact).toBeVisible();
  const contactPage = (await contact.getAttribute("href"))!;
  for (const path of ["/admin", "/admin/contacts", contactPage, "/admin/settings"]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    expect(await overflow(page), path).toBeLessThanOrEqual(0);
  }
});
