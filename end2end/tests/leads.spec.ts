import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { newSalesUser, waitForHydration } from "./support";

test("a sales user filters fast-track leads, opens one, marks it contacted, and exports the list", async ({ browser }) => {
  const sales = await newSalesUser(browser, "lena@example.com");
  await sales.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Leads" }).click();
  await expect(sales.getByRole("heading", { name: "Leads", level: 1 })).toBeVisible();
  // The playbook's first tier is the list shown first.
  const tabs = sales.getByRole("navigation", { name: "Tiers" });
  await expect(tabs.locator("a[aria-current=page]")).toHaveText(/^Fast-track sales \(\d+\)$/);

  // Filters live in the address, so the view can be shared.
  await sales.getByLabel("Status").selectOption({ label: "New" });
  await sales.getByLabel("Sort by").selectOption({ label: "Entered the tier, latest first" });
  await sales.getByRole("button", { name: "Show leads" }).click();
  await expect(sales).toHaveURL(/tier=fast-track.*status=new.*sort=entered/);
  const rows = sales.locator("table.lead-list tbody tr");
  await expect(rows.first()).toBeVisible();
  const lead = rows.first().getByRole("link");
  const email = (await lead.textContent())!.trim();

  await lead.click();
  await expect(sales).toHaveURL(/\/admin\/contacts\/\d+$/);
  await waitForHydration(sales);
  const panel = sales.getByRole("region", { name: "Lead", exact: true });
  await expect(panel.getByText("Status: New")).toBeVisible();
  await panel.getByLabel("Move to").selectOption({ label: "Contacted" });
  await panel.getByLabel("Note (optional)").fill("Called, left a voicemail");
  await panel.getByRole("button", { name: "Save status" }).click();
  await expect(panel.getByRole("status")).toHaveText("Lead updated.");
  await expect(panel.getByText("Status: Contacted")).toBeVisible();
  await expect(panel.getByText(/Status set to Contacted by lena@example.com.*Called, left a voicemail/)).toBeVisible();
  // A later change that fails says so, though the one before went through.
  await sales.route("**/api/leads/owner", (route) => route.abort());
  await panel.getByLabel("Owner").selectOption({ label: "lena@example.com" });
  await panel.getByRole("button", { name: "Assign" }).click();
  await expect(panel.getByRole("alert")).toBeVisible();
  await expect(panel.getByText("Lead updated.")).toHaveCount(0);
  await sales.unroute("**/api/leads/owner");

  await sales.goto("/admin/leads?tier=fast-track&status=contacted");
  await expect(sales.getByRole("link", { name: email, exact: true })).toBeVisible();
  const [download] = await Promise.all([
    sales.waitForEvent("download"),
    sales.getByRole("link", { name: "Export these leads (CSV)" }).click(),
  ]);
  const csv = readFileSync((await download.path())!, "utf8");
  // A byte-order mark first, so spreadsheets read the accents right.
  expect(csv.startsWith("\uFEFFcontact_id,")).toBe(true);
  const lines = csv.trim().split(/\r?\n/);
  expect(lines[0]).toMatch(/^contact_id,email,name,company,tier,/);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(email);
  expect(lines[1]).toContain(",contacted,");
});
