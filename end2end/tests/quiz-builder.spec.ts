import { test, expect, Locator } from "@playwright/test";
import { signInAsOwner, waitForHydration } from "./support";

/** Types into a field and leaves it, as a person tabbing through the form. */
async function enter(field: Locator, value: string) {
  await field.fill(value);
  await field.press("Tab");
}

test("a marketer builds a three-question quiz with one branch and publishes it; respondents with and without JavaScript get the outcomes they earn", async ({ page, browser }) => {
  await signInAsOwner(page);

  // A new quiz from the list opens in the builder.
  await page.goto("/admin/quizzes");
  await waitForHydration(page);
  await page.getByLabel("New quiz title").fill("Team readiness check");
  await page.getByRole("button", { name: "Create quiz" }).click();
  await expect(page).toHaveURL(/\/admin\/quizzes\/\d+$/);
  const builderUrl = page.url();
  await expect(page.getByRole("heading", { name: "Team readiness check", level: 1 })).toBeVisible();
  await expect(page.getByLabel("Slug")).toHaveValue("team-readiness-check");

  // Three single-choice questions, each with two options and points.
  const questions = [
    { prompt: "How big is your team?", options: [["Just me", "0"], ["A team", "2"]] },
    { prompt: "How soon do you need it?", options: [["This month", "3"], ["Later", "1"]] },
    { prompt: "Which plan interests you?", options: [["Starter", "0"], ["Pro", "2"]] },
  ];
  for (const [i, q] of questions.entries()) {
    await page.getByRole("button", { name: "Add question" }).click();
    const question = page.getByRole("group", { name: new RegExp(`^Question ${i + 1} `) });
    await question.getByLabel("Question", { exact: true }).fill(q.prompt);
    for (const [j, [label, points]] of q.options.entries()) {
      const option = question.getByRole("group", { name: `Option ${j + 1}` });
      await option.getByLabel("Label", { exact: true }).fill(label);
      await enter(option.getByLabel("Points", { exact: true }), points);
    }
  }

  // Publishing too early lists what is missing, each linked to its place.
  await page.getByRole("button", { name: "Publish" }).click();
  const problems = page.getByRole("region", { name: "Fix before publishing" });
  await expect(problems.getByRole("link", { name: "add at least one outcome (result page)" })).toBeVisible();

  // One branch: a team of one skips the timing question.
  const first = page.getByRole("group", { name: /^Question 1 / });
  await first.getByRole("button", { name: "Add branch" }).click();
  const branch = first.getByRole("group", { name: "Branch 1" });
  await expect(branch.getByLabel("Test 1: the answer to")).toHaveValue("q1");
  await branch.getByLabel("Just me").check();
  await branch.getByLabel("then go to").selectOption("question:q3");

  // Two outcomes by score range that together cover every score.
  await page.getByRole("button", { name: "Add outcome" }).click();
  const starting = page.getByRole("group", { name: /^Outcome 1 / });
  await starting.getByLabel("Result title").fill("Getting started");
  await starting.getByLabel("Text (Markdown)").fill("Start small and grow into it.");
  await enter(starting.getByLabel("From score"), "0");
  await enter(starting.getByLabel("Up to (not including)"), "4");
  await page.getByRole("button", { name: "Add outcome" }).click();
  const scaling = page.getByRole("group", { name: /^Outcome 2 / });
  await scaling.getByLabel("Result title").fill("Ready to scale");
  await enter(scaling.getByLabel("From score"), "4");
  await enter(scaling.getByLabel("Up to (not including)"), "100");
  await scaling.getByLabel("Button label").fill("Book a call");
  await scaling.getByLabel("Button link").fill("https://example.com/call");
  await expect(problems).toHaveCount(0);

  // Respondents see their result first, then may ask for it by email.
  await page.getByLabel("After the result (offer to send it)").check();

  // The preview is the quiz itself: it takes the branch ("Just me" goes
  // straight to the plan question), then shows the result with its email form.
  const preview = page.getByRole("region", { name: "Preview" });
  await preview.getByRole("button", { name: "Restart preview" }).click();
  await preview.getByLabel("Just me").check();
  await preview.getByRole("button", { name: "Next" }).click();
  await expect(preview.getByRole("heading", { name: "Which plan interests you?" })).toBeVisible();
  await preview.getByRole("button", { name: "Back" }).click();
  await expect(preview.getByLabel("Just me")).toBeChecked();
  await preview.getByRole("button", { name: "Next" }).click();
  await preview.getByLabel("Starter").check();
  await preview.getByRole("button", { name: "See my result" }).click();
  await expect(preview.getByRole("heading", { name: "Getting started" })).toBeVisible();
  await preview.getByLabel("Email").fill("lee@example");
  await preview.getByRole("button", { name: "Send me my result" }).click();
  await expect(preview.getByRole("alert")).toContainText("not a valid email address");

  // Text a field cannot read is not dropped by a save: the save waits.
  const points = first.getByRole("group", { name: "Option 1" }).getByLabel("Points", { exact: true });
  await enter(points, "lots");
  await expect(page.getByText("· unsaved changes")).toBeVisible();
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByText("Not saved: fix the field marked below.")).toBeVisible();
  await expect(points).toBeFocused();
  await expect(points).toHaveAttribute("aria-invalid", "true");
  await enter(points, "0");
  // Leaving with unsaved changes asks first; staying keeps them.
  let asked = false;
  page.once("dialog", (dialog) => {
    asked = true;
    void dialog.dismiss();
  });
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Quizzes" }).click();
  await expect.poll(() => asked).toBe(true);
  await expect(page).toHaveURL(/\/admin\/quizzes\/\d+$/);
  await expect(points).toHaveValue("0");

  // Save, then publish: the quiz now lives at its public address.
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toContainText("Published version 1.");
  await expect(page.getByRole("status").getByRole("link")).toHaveAttribute("href", "/q/team-readiness-check");
  await expect(page.getByText("Published (version 1)")).toBeVisible();
  await expect(page.getByRole("link", { name: "See its funnel" })).toHaveAttribute("href", "/admin?quiz=team-readiness-check#funnel-heading");

  // After a reload the builder shows what was saved.
  await page.reload();
  await expect(page.getByRole("group", { name: /^Question 3 / }).getByLabel("Question", { exact: true })).toHaveValue("Which plan interests you?");

  // Changes saved but not wanted go back to the published version.
  await waitForHydration(page);
  const third = page.getByRole("group", { name: /^Question 3 / }).getByLabel("Question", { exact: true });
  await enter(third, "Which plan would you pick?");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByText("· saved changes not yet published")).toBeVisible();
  let discardQuestion = "";
  page.once("dialog", (dialog) => {
    discardQuestion = dialog.message();
    void dialog.accept();
  });
  await page.getByRole("button", { name: "Discard changes" }).click();
  await expect(page.getByRole("status")).toHaveText("Changes discarded: the draft is version 1 again.");
  await expect(page.getByRole("status")).toBeFocused();
  expect(discardQuestion).toContain("since version 1 was published");
  await expect(page.getByRole("group", { name: /^Question 3 / }).getByLabel("Question", { exact: true })).toHaveValue("Which plan interests you?");
  await expect(page.getByText("Published (version 1)", { exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Discard changes" })).toHaveCount(0);

  // The list shows it published, with no responses yet.
  await page.goto("/admin/quizzes");
  const row = page.getByRole("row", { name: /Team readiness check/ });
  await expect(row.getByRole("cell", { name: "published" })).toBeVisible();
  await expect(row.getByRole("cell", { name: "–" })).toBeVisible();
  // Its funnel is a click away.
  await row.getByRole("link", { name: "Funnel of Team readiness check" }).click();
  await expect(page.getByRole("combobox", { name: "Quiz" })).toHaveValue("team-readiness-check");
  await expect(page.getByText(/^0 views · 0 started/)).toBeVisible();

  // A respondent with JavaScript: a team, soon, Pro = 7 points.
  const withJs = await (await browser.newContext()).newPage();
  await withJs.goto("/q/team-readiness-check");
  await waitForHydration(withJs);
  await withJs.getByLabel("A team").check();
  await withJs.getByRole("button", { name: "Next" }).click();
  await withJs.getByLabel("This month").check();
  await withJs.getByRole("button", { name: "Next" }).click();
  await withJs.getByRole("radio", { name: "Pro" }).check();
  await withJs.getByRole("button", { name: "See my result" }).click();
  await expect(withJs.getByRole("heading", { name: "Ready to scale" })).toBeVisible();
  await expect(withJs.getByRole("link", { name: "Book a call" })).toHaveAttribute("href", "https://example.com/call");
  await waitForHydration(withJs);
  await withJs.getByLabel("Email").fill("lee@example");
  await withJs.getByRole("button", { name: "Send me my result" }).click();
  await expect(withJs.getByRole("alert")).toContainText("not a valid email address");
  await withJs.getByLabel("Email").fill("lee@example.com");
  await withJs.getByRole("button", { name: "Send me my result" }).click();
  await expect(withJs.getByRole("status")).toHaveText("Your result is on its way to lee@example.com.");

  // Without JavaScript: just me takes the branch past the timing question.
  const noJs = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await noJs.goto("/q/team-readiness-check");
  await noJs.getByLabel("Just me").check();
  await noJs.getByRole("button", { name: "Next" }).click();
  await expect(noJs.getByRole("heading", { name: "Which plan interests you?" })).toBeVisible();
  await noJs.getByLabel("Starter").check();
  await noJs.getByRole("button", { name: "See my result" }).click();
  await expect(noJs.getByRole("heading", { name: "Getting started" })).toBeVisible();
  await noJs.getByLabel("Email").fill("max@example.com");
  await noJs.getByRole("button", { name: "Send me my result" }).click();
  await expect(noJs.getByRole("status")).toHaveText("Your result is on its way to max@example.com.");

  // A version that drops an option a segment names is published, and the
  // marketer hears which segment now matches only earlier answers.
  const segment = await page.request.post("/api/segments/save", {
    form: { slug: "pro-pickers", name: "Pro pickers", description: "", text: "answered(team-readiness-check.q3 = o2)" },
  });
  expect(segment.status()).toBe(200);
  await page.goto(builderUrl);
  await waitForHydration(page);
  const plan = page.getByRole("group", { name: /^Question 3 / });
  await enter(plan.getByRole("group", { name: "Option 2" }).getByLabel("Key", { exact: true }), "pro");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toContainText("Published version 2.");
  await expect(page.getByRole("status")).toContainText("One segment asks for answers this version does not have");
  const stale = page.getByRole("note");
  await expect(stale).toContainText("answers this version does not have");
  await expect(stale.getByRole("listitem")).toHaveText("Pro pickers: team-readiness-check.q3 = o2");
  await expect(stale.getByRole("link", { name: "Pro pickers" })).toHaveAttribute("href", `/admin/segments/${await segment.json()}`);
  // Other tests share this database: the segment goes again.
  const deleted = await page.request.post("/api/segments/delete", { form: { id: String(await segment.json()) } });
  expect(deleted.status()).toBe(200);

  // Archiving a live quiz asks first: it takes the public page down.
  await page.goto("/admin/quizzes");
  await waitForHydration(page);
  const archive = page.getByRole("button", { name: "Archive Team readiness check" });
  let question = "";
  page.once("dialog", (dialog) => {
    question = dialog.message();
    void dialog.dismiss();
  });
  await archive.click();
  await expect.poll(() => question).toContain("/q/team-readiness-check");
  expect((await noJs.goto("/q/team-readiness-check"))?.status()).toBe(200);
  page.once("dialog", (dialog) => void dialog.accept());
  await archive.click();
  await expect(row.getByRole("cell", { name: "archived" })).toBeVisible();
  const gone = await noJs.goto("/q/team-readiness-check");
  expect(gone?.status()).toBe(404);
});

test("a marketer loads an earlier published version into the draft, and respondents keep the live one until it is published", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/quizzes");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Duplicate What's holding your growth back?", exact: true }).click();
  await page.getByRole("link", { name: "What's holding your growth back? (copy)" }).first().click();
  await expect(page).toHaveURL(/\/admin\/quizzes\/\d+$/);
  const versions = page.getByRole("region", { name: "Published versions" });
  await expect(versions).toContainText("None yet");

  // Version 1 as copied, then version 2 with a new title.
  await waitForHydration(page);
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toContainText("Published version 1.");
  const slug = await page.getByLabel("Slug").inputValue();
  const title = page.getByLabel("Title", { exact: true });
  await enter(title, "Growth check, second edition");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toContainText("Published version 2.");
  await expect(versions.getByRole("row")).toHaveCount(3);
  const second = versions.getByRole("row", { name: /^2 \(live\)/ });
  await expect(second).toContainText("Growth check, second edition");
  await expect(second).toContainText("The saved draft is this version");

  // Back to version 1: the draft only, after a question that says so.
  let question = "";
  page.once("dialog", (dialog) => {
    question = dialog.message();
    void dialog.accept();
  });
  await versions.getByRole("button", { name: "Load into draft: version 1" }).click();
  const status = page.getByRole("status");
  await expect(status).toHaveText("The draft is now version 1 as it was published. Respondents get version 2 until you publish.");
  await expect(status).toBeFocused();
  expect(question).toContain("Respondents keep getting version 2");
  await expect(title).toHaveValue("What's holding your growth back? (copy)");
  await expect(page.getByText("Published (version 2) · saved changes not yet published")).toBeVisible();
  await expect(versions.getByRole("row", { name: /^1 / })).toContainText("The saved draft is this version");

  const live = await page.context().newPage();
  await live.goto(`/q/${slug}`);
  await expect(live).toHaveTitle("Growth check, second edition");

  // Published, it is served as version 3.
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(status).toContainText("Published version 3.");
  await live.reload();
  await expect(live).toHaveTitle("What's holding your growth back? (copy)");
});
