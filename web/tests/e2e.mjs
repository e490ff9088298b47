// The whole flow in a real browser against a real `vodpipe serve`: sign up, upload a clip,
// see it reach done, watch it play, switch quality, sign out. Debian's Chromium, headless,
// driven by playwright-core. Screenshots of each page go to the artifacts directory.
//
//   node tests/e2e.mjs <base url> <clip.mp4> <artifacts dir>
//
// With POLICY_DIR (the bundle the server was started with, `--policy`), CMAF_PRESET (a CMAF
// preset in it) and SERVE_LOG (the server's log, at info for the runtime), a second upload is
// made after the preset is made active: it is watched with hls.js and with dash.js, and the
// page's own choice is checked.
//
// With COGNITO_ENDPOINT, COGNITO_POOL and COGNITO_CLIENT (a moto user pool), the same build
// is then pointed at Cognito by config.json alone: sign up (with the confirmation code),
// sign out, sign in.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, clip, artifacts] = process.argv.slice(2);
if (!base || !clip || !artifacts) {
  console.error("usage: node tests/e2e.mjs <base url> <clip.mp4> <artifacts dir>");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // This machine's network is closed: no background connections, no sandbox as root.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
const page = await context.newPage();
const problems = [];
// Steps that provoke a failure on purpose say which console error they expect; the browser
// logs every failed request, so the refused token's 401 and the missing page's 404 appear.
let expected = null;
page.on("console", (message) => {
  if (message.type() !== "error") return;
  if (expected && expected.test(message.text())) return;
  problems.push(`console error on ${page.url()}: ${message.text()}`);
});
page.on("pageerror", (error) => problems.push(`page error on ${page.url()}: ${error.message}`));

let step = 0;
async function shot(name) {
  step += 1;
  await page.screenshot({ path: join(artifacts, `${String(step).padStart(2, "0")}-${name}.png`), fullPage: true });
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Plays the video of the watch page that is open and switches it to another rendition: the
 * player reports the switch and the picture has the rendition's height. */
async function playAndSwitch(name) {
  const video = page.locator("video");
  await video.waitFor();
  await page.getByLabel("Quality").waitFor();
  await page.evaluate(() => {
    const media = document.querySelector("video");
    media.muted = true;
    return media.play();
  });
  await page.waitForFunction(() => document.querySelector("video").currentTime > 1, null, { timeout: 30_000 });
  check(await page.evaluate(() => document.querySelector("video").error === null), "the video element reports an error");
  const failed = page.getByRole("alert").filter({ hasText: "Playback failed" });
  check((await failed.count()) === 0, `the page says: ${await failed.allTextContents()}`);
  await shot(name);

  // Options: Auto, then the renditions in the player's order.
  const options = await page.getByLabel("Quality").locator("option").allTextContents();
  check(options.length >= 3, `expected Auto and at least two renditions, got ${options.join(", ")}`);
  const playing = Number(await video.getAttribute("data-level"));
  const other = playing === 0 ? 1 : 0;
  const height = parseInt(options[other + 1], 10);
  await page.getByLabel("Quality").selectOption(String(other));
  await page.waitForFunction(
    ([level, height]) => {
      const media = document.querySelector("video");
      return media.dataset.level === String(level) && media.videoHeight === height;
    },
    [other, height],
    { timeout: 30_000 },
  );
  const before = await page.evaluate(() => document.querySelector("video").currentTime);
  await page.waitForFunction((t) => document.querySelector("video").currentTime > t + 0.5, before, { timeout: 30_000 });
  await shot(`${name}-switched`);
  return `${options.join(", ")}: ${options[playing + 1]} → ${options[other + 1]}`;
}

/** Makes `preset` the active preset of the server's bundle and waits until the server says it
 * activated the bundle (it looks for changes every 500 ms). */
async function activatePreset(bundle, preset, serveLog) {
  const manifest = join(bundle, "bundle.toml");
  const activations = () => readFileSync(serveLog, "utf8").split("policy bundle activated").length - 1;
  const before = activations();
  writeFileSync(manifest, readFileSync(manifest, "utf8").replace(/^preset = ".*"$/m, `preset = "${preset}"`));
  for (const deadline = Date.now() + 20_000; activations() === before; ) {
    const log = readFileSync(serveLog, "utf8");
    const refused = log.indexOf("policy bundle refused");
    check(refused < 0, `the server refused the bundle:\n${log.slice(refused)}`);
    check(Date.now() < deadline, `the server did not activate the preset ${preset}`);
    await page.waitForTimeout(100);
  }
}

/** The video codec families (avc1, av01, …) a master playlist or an MPD lists. */
function codecFamilies(manifest) {
  const codecs = [...manifest.matchAll(/codecs="([^"]+)"/gi)].flatMap((m) => m[1].split(","));
  return [...new Set(codecs.map((c) => c.trim().slice(0, 4)).filter((c) => c !== "mp4a"))].sort().join(",");
}

const username = `viewer${Date.now()}`;
const password = "correct horse battery";

try {
  // Home, before anything is published.
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Latest videos" }).waitFor();
  await page.getByText("No videos yet").waitFor();
  await shot("home-empty");

  // Uploading needs an account.
  await page.goto(`${base}/upload/`);
  await page.getByRole("link", { name: "Sign in" }).first().waitFor();

  // Sign up with the keyboard only: labels find the fields, Enter submits.
  await page.goto(`${base}/signup/`);
  await page.getByLabel("Username or email").focus();
  await page.keyboard.type(username);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await shot("signup");
  await page.keyboard.press("Enter");
  await page.getByTestId("signed-in-as").filter({ hasText: username }).waitFor();

  // A file that is not a video is refused before anything is sent.
  await page.goto(`${base}/upload/`);
  await page.getByLabel("Video file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await page.getByLabel("Title").fill("Not a video");
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByRole("alert").filter({ hasText: "is not a video file" }).waitFor();

  // Larger than this server's limit (started with --max-upload-bytes 2000000): refused by
  // the page before sending...
  const big = { name: "big.mp4", mimeType: "video/mp4", buffer: Buffer.alloc(3_000_000, 1) };
  await page.getByLabel("Video file").setInputFiles(big);
  await page.getByLabel("Title").fill("Too big");
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByRole("alert").filter({ hasText: "the limit is 2 MB" }).waitFor();
  // ...and by the upload endpoint itself when the page believes a larger limit.
  await page.route("**/config.json", async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), maxUploadBytes: 100_000_000 } });
  });
  await page.reload();
  await page.getByLabel("Video file").setInputFiles(big);
  await page.getByLabel("Title").fill("Too big");
  expected = /status of 400/;
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByRole("alert").filter({ hasText: "larger than the upload limit" }).waitFor();
  await shot("upload-too-large");
  expected = null;
  await page.unroute("**/config.json");

  // The network failing during the upload says so.
  await page.route("**/upload", (route) => (route.request().method() === "POST" ? route.abort("failed") : route.continue()));
  await page.reload();
  await page.getByLabel("Video file").setInputFiles(clip);
  await page.getByLabel("Title").fill("No network");
  expected = /ERR_FAILED/;
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByRole("alert").filter({ hasText: "The network failed during the upload" }).waitFor();
  expected = null;
  await page.unroute("**/upload");

  // An expired session says so, and nothing is uploaded.
  expected = /status of 401/;
  const saved = await page.evaluate(() => localStorage.getItem("vodpipe.session"));
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("vodpipe.session"));
    localStorage.setItem(
      "vodpipe.session",
      JSON.stringify({ ...session, accessToken: "expired", refreshToken: "revoked", expiresAt: Date.now() + 3600_000 }),
    );
  });
  await page.getByLabel("Video file").setInputFiles(clip);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByRole("alert").filter({ hasText: "Your session has expired" }).waitFor();
  await shot("upload-session-expired");
  expected = null;

  // Signed in again (the refresh token was replaced above, so sign in for real).
  await page.goto(`${base}/signin/?next=/upload/`);
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/upload/`);
  check(saved !== null, "the session was stored");

  // The upload itself, with its progress bar.
  await page.getByLabel("Video file").setInputFiles(clip);
  await page.getByLabel("Title").fill("Test pattern");
  await page.getByLabel("Description").fill("A clip made by ffmpeg for the browser test.");
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByText("Uploaded. It is being processed").waitFor({ timeout: 60_000 });
  await shot("upload-done");

  // My videos: live status until done.
  await page.getByRole("link", { name: "follow it in My videos" }).click();
  await page.getByRole("heading", { name: "My videos" }).waitFor();
  await shot("me-processing");
  await page.getByTestId("status").filter({ hasText: "done" }).waitFor({ timeout: 180_000 });
  await shot("me-done");

  // Home lists it with its thumbnail; the card leads to the watch page.
  await page.goto(`${base}/`);
  const card = page.getByRole("link", { name: /Test pattern/ });
  await card.waitFor();
  await page.waitForFunction(() => [...document.images].every((image) => image.complete && image.naturalWidth > 0));
  await shot("home");
  await card.click();
  await page.waitForURL(/\/watch\/\?v=/);

  // It plays with hls.js (MPEG-TS has no DASH manifest), and switches rendition.
  const video = page.locator("video");
  const ts = await playAndSwitch("watch");
  check((await video.getAttribute("data-player")) === "hls", "MPEG-TS plays as HLS");
  const poster = await video.getAttribute("poster");
  check(poster && /\.jpg$/.test(poster), `the thumbnail is the poster: ${poster}`);
  check(
    await page.evaluate(async (url) => (await fetch(url)).ok, poster),
    "the poster thumbnail is served",
  );

  // Delete it from My videos: gone there and from home.
  await page.goto(`${base}/me/`);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete Test pattern" }).click();
  await page.getByText("Nothing yet.").waitFor();
  // The public first page is served from a cache for up to a second (docs/api.md).
  await page.waitForTimeout(1500);
  await page.goto(`${base}/`);
  await page.getByText("No videos yet").waitFor({ timeout: 10_000 });

  let cmaf = "not run (no POLICY_DIR)";
  if (process.env.POLICY_DIR) {
    // CMAF: the next upload gets fragmented MP4 listed by an HLS master playlist and a DASH MPD.
    await activatePreset(process.env.POLICY_DIR, process.env.CMAF_PRESET, process.env.SERVE_LOG);
    await page.goto(`${base}/upload/`);
    await page.getByLabel("Video file").setInputFiles(clip);
    await page.getByLabel("Title").fill("CMAF pattern");
    await page.getByRole("button", { name: "Upload" }).click();
    await page.getByText("Uploaded. It is being processed").waitFor({ timeout: 60_000 });
    await page.goto(`${base}/me/`);
    await page.getByTestId("status").filter({ hasText: "done" }).waitFor({ timeout: 180_000 });
    const href = await page.getByRole("link", { name: "CMAF pattern" }).getAttribute("href");
    const id = new URL(href, base).searchParams.get("v");
    const view = await (await fetch(`${base}/api/videos/${id}`)).json();
    check(/\/index\.mpd$/.test(view.dash_url ?? ""), `a CMAF video has a DASH manifest: ${view.dash_url}`);
    const mpd = await fetch(new URL(view.dash_url, base));
    check(mpd.headers.get("content-type") === "application/dash+xml", `the MPD's type: ${mpd.headers.get("content-type")}`);
    const master = await (await fetch(new URL(view.playback_url, base))).text();
    const [hlsCodecs, dashCodecs] = [codecFamilies(master), codecFamilies(await mpd.text())];
    check(hlsCodecs === dashCodecs, `the master playlist lists ${hlsCodecs}, the MPD ${dashCodecs}`);
    check(hlsCodecs === "av01,avc1", `the AV1 rung and the H.264 ones are listed: ${hlsCodecs}`);

    const watch = (player) => page.goto(`${base}/watch/?v=${id}${player ? `&player=${player}` : ""}`);
    await watch("hls");
    const withHls = await playAndSwitch("watch-cmaf-hls");
    check((await video.getAttribute("data-player")) === "hls", "?player=hls plays HLS");
    // Chromium decodes AV1: each player starts on it and the switch crosses to H.264.
    check(/: \S+ AV1 → \S+ H\.264$/.test(withHls), `hls.js starts on AV1 and switches to H.264: ${withHls}`);
    await watch("dash");
    const withDash = await playAndSwitch("watch-cmaf-dash");
    check((await video.getAttribute("data-player")) === "dash", "?player=dash plays DASH");
    check(/: \S+ AV1 → \S+ H\.264$/.test(withDash), `dash.js starts on AV1 and switches to H.264: ${withDash}`);
    await page.getByTestId("playback").filter({ hasText: "DASH · dash.js" }).waitFor();

    // Left to choose, the page plays the manifest whose best codec this browser decodes is the
    // better; both list the same renditions here, so they tie and it keeps HLS.
    await watch(null);
    await page.locator('video[data-player="hls"]').waitFor();
    await page.getByTestId("playback").filter({ hasText: "HLS · hls.js" }).waitFor();
    await page.evaluate(() => {
      const media = document.querySelector("video");
      media.muted = true;
      return media.play();
    });
    await page.waitForFunction(() => document.querySelector("video").currentTime > 1, null, { timeout: 30_000 });
    await shot("watch-cmaf-auto");
    cmaf = `codecs ${hlsCodecs}; hls.js ${withHls}; dash.js ${withDash}; chosen: ${await page.getByTestId("playback").textContent()}`;
  }

  // Sign out.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  expected = /status of 404/;
  await page.goto(`${base}/no-such-page/`);
  await page.getByRole("heading", { name: "Not found" }).waitFor();
  await shot("not-found");
  check(problems.length === 0, `errors in the browser:\n${problems.join("\n")}`);

  if (process.env.COGNITO_ENDPOINT) {
    // AWS mode, chosen by config.json alone (the API stays this server's; only the account
    // pages are exercised: they talk to the user pool directly).
    await page.route("**/config.json", (route) =>
      route.fulfill({
        json: {
          mode: "aws",
          apiBaseUrl: base,
          maxUploadBytes: 100_000_000,
          cognito: {
            region: "us-east-1",
            userPoolId: process.env.COGNITO_POOL,
            clientId: process.env.COGNITO_CLIENT,
            endpoint: process.env.COGNITO_ENDPOINT,
          },
        },
      }),
    );
    const email = `${username}@example.com`;
    await page.goto(`${base}/signup/`);
    await page.getByLabel("Username or email").fill(email);
    await page.getByLabel("Password").fill("Correct-Horse-1");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByLabel("Confirmation code").fill("123456");
    await shot("cognito-confirm");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByTestId("signed-in-as").filter({ hasText: email }).waitFor();
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("vodpipe.session")));
    check(stored.accessToken.split(".").length === 3, "a Cognito access token (a JWT) is stored");
    // moto has no RevokeToken, so the page's best-effort revocation fails there (its error
    // answer carries no CORS header); the session is dropped from the browser regardless.
    expected = /CORS policy|ERR_FAILED/;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in" }).first().click();
    await page.getByLabel("Username or email").fill(email);
    await page.getByLabel("Password").fill("Correct-Horse-1");
    await page.keyboard.press("Enter");
    await page.getByTestId("signed-in-as").filter({ hasText: email }).waitFor();
    await shot("cognito-signed-in");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in" }).first().waitFor();
    check(problems.length === 0, `errors in the browser (Cognito):\n${problems.join("\n")}`);
  }
  console.log(`e2e: passed (${step} screenshots in ${artifacts}); MPEG-TS: ${ts}; CMAF: ${cmaf}`);
} catch (error) {
  await shot("failure").catch(() => {});
  writeFileSync(join(artifacts, "failure.html"), await page.content().catch(() => ""));
  console.error(`e2e: FAILED at ${page.url()}: ${error.stack ?? error}`);
  if (problems.length) console.error(problems.join("\n"));
  process.exitCode = 1;
} finally {
  await browser.close();
}
