import { test, expect } from "@playwright/test";
import { waitForHydration } from "./support";

const password = "correct horse battery";

test("an owner sets up the app, invites a sales user, who signs in and cannot open the quiz editor", async ({ browser }) => {
  const ownerPage = await (await browser.newContext()).newPage();

  // First run: the admin leads to the one-time setup page.
  await ownerPage.goto("/admin");
  await expect(ownerPage).toHaveURL(/\/setup$/);
  await ownerPage.getByLabel("Your email").fill("owner@example.com");
  await ownerPage.getByLabel(/^Password/).fill(password);
  await ownerPage.getByRole("button", { name: "Create account" }).click();
  await expect(ownerPage.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  // Settings: invite a sales user and copy the one-time link.
  await ownerPage.getByRole("link", { name: "Settings" }).click();
  await expect(ownerPage.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  await waitForHydration(ownerPage);
  await ownerPage.getByLabel("Email", { exact: true }).fill("sally@example.com");
  await ownerPage.getByLabel("Role", { exact: true }).selectOption("sales");
  await ownerPage.getByRole("button", { name: "Create invitation link" }).click();
  const link = (await ownerPage.locator("code.invite-link").textContent()) ?? "";
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);

  // The invitee opens the link in their own browser and picks a password.
  const salesContext = await browser.newContext();
  const sales = await salesContext.newPage();
  await sales.goto(link);
  await expect(sales.getByText("You were invited as sally@example.com with the role sales")).toBeVisible();
  await sales.getByLabel(/^Password/).fill(password);
  await sales.getByRole("button", { name: "Create my account" }).click();
  await expect(sales.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  // Signed out and back in through the login form.
  await sales.getByRole("button", { name: "Sign out" }).click();
  await expect(sales.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await sales.getByLabel("Email").fill("sally@example.com");
  await sales.getByLabel("Password").fill(password);
  await sales.getByRole("button", { name: "Sign in" }).click();
  await expect(sales.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  // Sales sees no quiz editor in the navigation, and the server refuses it.
  const nav = sales.getByRole("navigation", { name: "Admin" });
  await expect(nav.getByRole("link", { name: "Dashboard" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Quizzes" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Settings" })).toHaveCount(0);
  const response = await sales.goto("/admin/quizzes");
  expect(response?.status()).toBe(403);
  await expect(sales.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("a wrong password shows a message on the sign-in page", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("That email and password do not match an account.");
    await expect(page.getByLabel("Email")).toHaveValue("nobody@example.com");
  });
});
