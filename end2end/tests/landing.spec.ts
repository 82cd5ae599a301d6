import { test, expect } from "@playwright/test";
import { waitForHydration } from "./support";

test("a visitor opens the start page, checks the server and goes to the admin", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "quizfunnel" })).toBeVisible();
  await waitForHydration(page);

  // The answer arrives through a server function, without a page load.
  let reloaded = false;
  page.on("framenavigated", () => (reloaded = true));
  await page.getByRole("button", { name: "Check the server" }).click();
  await expect(page.getByRole("status")).toHaveText("Up, storing data in SQLite.");
  expect(reloaded).toBe(false);

  await page.getByRole("link", { name: "Open the admin" }).click();
  await expect(page).toHaveURL(/\/admin$/);
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("the start page is fully rendered by the server and its links work", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "quizfunnel" })).toBeVisible();
    await expect(page.locator(".app")).not.toHaveAttribute("data-hydrated", "true");
    // The admin asks who you are: setup on a new install, sign-in after.
    await page.getByRole("link", { name: "Open the admin" }).click();
    await expect(page.getByRole("heading", { name: /Create the owner account|Sign in/ })).toBeVisible();
  });
});
