//! `check --format html` and `fleet --format html` in a real headless Chromium (Debian
//! `chromium`): the DOM it builds (`--dump-dom`) has the verdict, every capability and a CNAME
//! chain; a 1280×900 screenshot is not blank; the file loads nothing from the network; text is
//! escaped. Under CI=true a missing Chromium fails these tests; elsewhere they skip with a
//! notice.
//!
//! `HTML_REPORT_SCREENSHOT=PATH` keeps the single report's screenshot (docs/html-report.png is
//! made so), `HTML_REPORT_SCREENSHOT_390=PATH` the one on a phone (docs/html-report-390.png),
//! `FLEET_REPORT_SCREENSHOT=PATH` the fleet's.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::fleet::{sweep, FleetWorld};
use crate::world::*;

/// Longest a Chromium run may take before it is killed (with its child processes).
const CHROMIUM_LIMIT: Duration = Duration::from_secs(60);

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The Chromium binary, or `None` after a notice. Under CI=true a missing one fails.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/bin", "/bin"])
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| Path::new(d).join(n)))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !in_ci(),
            "`chromium` is not installed, and CI=true: the HTML report must be tested in a real browser in CI (.ci/run installs chromium)"
        );
        eprintln!("notice: `chromium` is not installed; skipping this browser test (it fails under CI=true)");
    }
    found
}

/// Runs headless Chromium on `page` with `extra` flags; stdout on success. Killed (its whole
/// process group) after [`CHROMIUM_LIMIT`].
fn run_chromium(bin: &Path, page: &Path, extra: &[String]) -> String {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let mut child = cmd.spawn().expect("start chromium");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let mut err = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        let _ = tx.send((out, err, child.wait()));
    });
    match rx.recv_timeout(CHROMIUM_LIMIT) {
        Ok((out, err, status)) => {
            let status = status.expect("wait for chromium");
            assert!(status.success(), "chromium failed ({status}):\n{err}");
            out
        }
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            panic!("chromium did not finish within {CHROMIUM_LIMIT:?}: killed");
        }
    }
}

fn dump_dom(bin: &Path, page: &Path) -> String {
    run_chromium(bin, page, &["--dump-dom".to_string()])
}

/// A 1280×900 screenshot of `page`; checks it is not blank and returns its path.
fn screenshot(bin: &Path, page: &Path, dir: &Path) -> PathBuf {
    screenshot_at(bin, page, dir, (1280, 900))
}

/// A screenshot of `page` in a window of `size`; checks it is not blank and returns its path.
fn screenshot_at(bin: &Path, page: &Path, dir: &Path, size: (u32, u32)) -> PathBuf {
    let png = dir.join(format!("shot-{}x{}.png", size.0, size.1));
    run_chromium(
        bin,
        page,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={},{}", size.0, size.1),
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("screenshot written"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    assert_eq!((info.width, info.height), size);
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let distinct: HashSet<&[u8]> = pixels.chunks(channels).collect();
    let background = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).all(|&c| c >= 0xF0))
        .count();
    let total = pixels.len() / channels;
    assert!(
        distinct.len() > 50,
        "the screenshot has only {} distinct colours: blank?",
        distinct.len()
    );
    assert!(
        background * 100 / total < 97,
        "the screenshot is {}% background: blank?",
        background * 100 / total
    );
    png
}

/// One file, nothing fetched: no stylesheet links, no scripts, no remote URLs in CSS.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<link",
        "<script",
        "url(http",
        "src=\"http",
        "href=\"http",
        "@import",
        "<iframe",
        "<img",
    ] {
        assert!(!lower.contains(bad), "the HTML contains `{bad}`");
    }
    assert!(!lower.contains("http://"), "the HTML mentions http://");
    assert!(!lower.contains("https://"), "the HTML mentions https://");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_report_renders_in_chromium() {
    let w = FleetWorld::start("Fleet test world").await;
    let ran = w.check(&["zone=b"], true, "html").await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let html = &ran.stdout;
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert_self_contained(html);
    // The diagnosis at the top names the failing capability and its cause.
    let top = &html[..html.find("id=\"cap-core\"").expect("core card")];
    assert!(top.contains("What does not pass, and why"), "{top}");
    assert!(top.contains("connection refused"), "{top}");

    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let dom = dump_dom(&bin, &page);
    assert!(
        dom.contains("id=\"verdict\">FAIL</span>"),
        "no verdict in the DOM:\n{dom}"
    );
    for id in ["core", "results"] {
        assert!(
            dom.contains(&format!("id=\"cap-{id}\"")),
            "no card for {id}"
        );
    }
    // The CNAME chain as an SVG graph: each name, and the TTLs.
    let svg_start = dom
        .find("aria-label=\"DNS chain of api.fleet.test\"")
        .expect("chain svg");
    let svg = &dom[svg_start..svg_start + dom[svg_start..].find("</svg>").unwrap()];
    for name in [
        ">api.fleet.test<",
        ">edge.cdn.fleet.net<",
        ">node7.lb.fleet.org<",
        ">CNAME · TTL 300 s<",
        ">CNAME · TTL 120 s<",
        ">A/AAAA · TTL 30 s<",
        ">127.0.0.1<",
    ] {
        assert!(svg.contains(name), "{name} not in the chain graph:\n{svg}");
    }
    assert!(dom.contains("class=\"seg tls\""), "no TLS timing bar");
    let png = screenshot(&bin, &page, dir.path());
    if let Ok(keep) = std::env::var("HTML_REPORT_SCREENSHOT") {
        std::fs::copy(&png, keep).expect("keep the screenshot");
    }
}

/// Test-only: a page that shows `report` in a 390×844 frame (`srcdoc`, so the script may read
/// it; Chromium's headless window is never narrower than 500 px, a frame is) and, once loaded,
/// measures its layout and writes the figures into the DOM for `--dump-dom`: the frame's
/// viewport width, the page's scroll width, and every element whose right edge passes the
/// viewport or whose content is wider than its box (a card), outside closed `<details>`.
fn measuring_page(report: &str) -> String {
    let srcdoc = report.replace('&', "&amp;").replace('"', "&quot;");
    format!(
        r#"<!doctype html><html><body style="margin:0">
<iframe id="f" width="390" height="844" style="border:0" srcdoc="{srcdoc}"></iframe>
<pre id="measured"></pre>
<script>
window.addEventListener('load', () => {{
  const win = document.getElementById('f').contentWindow;
  const doc = win.document;
  const w = win.innerWidth;
  const wide = [];
  for (const e of doc.querySelectorAll('body *')) {{
    if (e.closest('details:not([open]) > :not(summary)')) continue;
    const r = e.getBoundingClientRect();
    const cls = typeof e.className === 'string' ? e.className : '';
    if (r.width > 0 && r.right > w + 0.5) wide.push(`${{e.tagName.toLowerCase()}}.${{cls}}#${{e.id}} right=${{Math.round(r.right)}}`);
  }}
  for (const c of doc.querySelectorAll('.card, .box')) {{
    if (c.scrollWidth > c.clientWidth) wide.push(`card ${{c.className}}#${{c.id}} scrollWidth=${{c.scrollWidth}} clientWidth=${{c.clientWidth}}`);
  }}
  document.getElementById('measured').textContent =
    JSON.stringify({{inner: w, scroll: doc.documentElement.scrollWidth, wide}});
}});
</script></body></html>"#
    )
}

/// The report at 390×844 (a phone): nothing is wider than the viewport — the page, each card,
/// each element (issue 23 row 5: cards had `minmax(560px, 1fr)` and overflowed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_report_fits_a_phone_screen() {
    let w = FleetWorld::start("Fleet test world").await;
    let ran = w.check(&["zone=b"], true, "html").await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let measured = dir.path().join("measured.html");
    std::fs::write(&measured, measuring_page(&ran.stdout)).unwrap();
    let dom = run_chromium(
        &bin,
        &measured,
        &[
            "--dump-dom".to_string(),
            "--window-size=800,900".to_string(),
            // Lets the frame load and the measuring script run before the DOM is dumped.
            "--virtual-time-budget=5000".to_string(),
        ],
    );
    let needle = "<pre id=\"measured\">";
    let start = dom.find(needle).expect("the measurements") + needle.len();
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let m: serde_json::Value = serde_json::from_str(
        &json
            .replace("&quot;", "\"")
            .replace("&gt;", ">")
            .replace("&lt;", "<")
            .replace("&amp;", "&"),
    )
    .unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(m["inner"], 390, "{m}");
    assert!(
        m["scroll"].as_u64().unwrap() <= 390,
        "the page scrolls sideways at 390 px: {m}"
    );
    assert_eq!(m["wide"], serde_json::json!([]), "wider than 390 px: {m}");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &ran.stdout).unwrap();
    let png = screenshot_at(&bin, &page, dir.path(), (390, 844));
    if let Ok(keep) = std::env::var("HTML_REPORT_SCREENSHOT_390") {
        std::fs::copy(&png, keep).expect("keep the screenshot");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_heat_map_renders_in_chromium() {
    let w = FleetWorld::start("Fleet test world").await;
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    sweep(&w, &reports).await;
    let page = dir.path().join("fleet.html");
    let ran: Ran = cli()
        .args([
            "fleet".to_string(),
            reports.display().to_string(),
            "--format".into(),
            "html".into(),
            "-o".into(),
            page.display().to_string(),
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("cannot reach results.fleet.test"));

    let Some(bin) = chromium() else { return };
    let dom = dump_dom(&bin, &page);
    assert!(dom.contains("id=\"verdict\">FAIL</span>"), "{dom}");
    assert!(dom.contains("id=\"matrix\""), "no heat map");
    for id in ["core", "results"] {
        assert!(dom.contains(&format!(">{id}</th>")), "no column for {id}");
    }
    // A drill-down section per host, linked from its row.
    for i in 1..=3 {
        assert!(
            dom.contains(&format!("id=\"host-{i}\"")),
            "no section host-{i}"
        );
        assert!(
            dom.contains(&format!("href=\"#host-{i}\"")),
            "no link to host-{i}"
        );
    }
    assert!(
        dom.contains("2 of 3 hosts cannot reach results.fleet.test: all in subnet 198.51.100.0/28 (label ip) / label zone=b"),
        "{dom}"
    );
    // Two failing cells, one passing, in the results column (and three passing core cells).
    assert_eq!(dom.matches("class=\"cell fail\"").count(), 2 + 2, "{dom}");
    let png = screenshot(&bin, &page, dir.path());
    if let Ok(keep) = std::env::var("FLEET_REPORT_SCREENSHOT") {
        std::fs::copy(&png, keep).expect("keep the screenshot");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_title_with_a_script_tag_is_text() {
    let w = FleetWorld::start("Evil <script>alert(1)</script> & <b>bold</b>").await;
    let ran = w.check(&[], false, "html").await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let html = &ran.stdout;
    assert_self_contained(html);
    assert!(
        html.contains(
            "Evil &lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &lt;b&gt;bold&lt;&#x2f;b&gt;"
        ),
        "{html}"
    );
    assert!(!html.contains("<b>bold"));

    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("evil.html");
    std::fs::write(&page, html).unwrap();
    let dom = dump_dom(&bin, &page);
    // In the DOM the title is text (serialised escaped again), never an element.
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains("<b>bold"), "{dom}");
    assert!(
        dom.contains("Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"),
        "{dom}"
    );
}
