//! What the runner really meets (issue 11), against real loopback servers: the update download
//! followed through its redirect, the hosts of the runner's own `.runner` / `.credentials`, and
//! self-signed certificates made the `openssl req -x509` way (CA:TRUE) in and out of the trust
//! store, with every certificate failure rcgen can make worded without library names.

use serde_json::Value;

use crate::world::*;

const CA: &str = "Fidelity Test Root CA";
const PKG: &str = "/actions/runner/releases/download/v9.9.9/actions-runner-linux-x64-9.9.9.tar.gz";
/// A signed download URL's token: it must never reach an output.
const SIG: &str = "sig=TOKEN-SHOULD-NOT-LEAK";

fn capability<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no capability {id}: {json:#}"))
}

/// The profile: `updates` follows the package URL on gh.example.com, which the profile
/// fingerprints, expecting assets.example.net.
fn redirect_profile(fx: &Fixture, first_port: u16) -> String {
    let p = Profile::new("fid", "Fidelity").capability(
        "updates",
        "Runner updates",
        true,
        &format!(
            "      - host: gh.example.com\n        http: {{ path: /, expect_header: {FINGERPRINT} }}\n      - redirect:\n          url: \"https://gh.example.com:{first_port}{PKG}\"\n          expect: [assets.example.net]\n          runner_package: true\n"
        ),
    );
    fx.profile(&p)
}

/// gh.example.com answers the package URL with a 302 to `location` (fingerprinted).
async fn github_like(fx: &Fixture, location: &str) -> TestServer {
    TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["gh.example.com"]),
        routes: github_routes().route(
            PKG,
            HttpResponse::status(302)
                .header(FINGERPRINT, "R:1")
                .header("Location", location),
        ),
    })
    .await
}

/// The release-asset host: `206` with the whole size in Content-Range.
async fn assets(fx: &Fixture, names: &[&str]) -> TestServer {
    TestServer::start(Mode::Https {
        cert: fx.pki.leaf(names),
        routes: Routes::new(
            HttpResponse::status(206).header("Content-Range", "bytes 0-0/180000000"),
        ),
    })
    .await
}

/// `check` of `profile` in `format` against the world's DNS and CA, without throughput.
fn check_args(
    fx: &Fixture,
    profile: &str,
    format: &str,
    dns: &DnsServer,
    extra: &[String],
) -> Vec<String> {
    let mut args = strings(&[
        "check",
        "--profile",
        profile,
        "--format",
        format,
        "--quiet",
        "--no-throughput",
        "--timeout",
        "2s",
        "--dns-server",
    ]);
    args.push(dns.addr.to_string());
    args.extend(["--ca-file".into(), fx.ca.display().to_string()]);
    args.extend(fx.agreeing_trust_stores());
    args.extend(extra.iter().cloned());
    args
}

async fn check(fx: &Fixture, profile: &str, dns: &DnsServer, extra: &[String]) -> Outcome {
    run_json(check_args(fx, profile, "json", dns, extra)).await
}

/// The redirect profile checked against a gh.example.com that answers the package URL with a
/// 302 to `location`.
async fn check_updates_via(fx: &Fixture, dns: &DnsServer, location: &str) -> Outcome {
    let gh = github_like(fx, location).await;
    let profile = redirect_profile(fx, gh.port());
    check(
        fx,
        &profile,
        dns,
        &connect_to("gh.example.com", 443, gh.port()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_update_download_is_followed_to_the_release_asset_host() {
    let fx = Fixture::new(CA);
    let asset = assets(&fx, &["assets.example.net"]).await;
    let gh = github_like(
        &fx,
        &format!(
            "https://assets.example.net:{}/asset/pkg?{SIG}",
            asset.port()
        ),
    )
    .await;
    let dns = DnsWorld::at_loopback(&["gh.example.com", "assets.example.net"])
        .start()
        .await;
    let profile = redirect_profile(&fx, gh.port());
    let extra = connect_to("gh.example.com", 443, gh.port());
    let o = check(&fx, &profile, &dns, &extra).await;
    assert_eq!(o.code, 0, "{:#}\n{}", o.json, o.stderr);
    let cap = capability(&o.json, "updates");
    assert_eq!(cap["verdict"], "pass", "{cap:#}");
    let entry = &cap["entries"][1];
    assert_eq!(
        entry["redirect"]["chain"], "gh.example.com → 302 → assets.example.net → 206",
        "{entry:#}"
    );
    assert_eq!(entry["redirect"]["size"], 180000000u64);
    assert_eq!(entry["redirect"]["size_from"], "server");
    let hops: Vec<&str> = entry["targets"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|t| t["host"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(hops, ["gh.example.com", "assets.example.net"]);
    // The hop asked for one byte, as a download starts.
    let seen = asset.seen_requests();
    let range = seen[0].headers.iter().find(|(k, _)| k == "range");
    assert_eq!(
        range.map(|(_, v)| v.as_str()),
        Some("bytes=0-0"),
        "{seen:?}"
    );
    assert!(
        seen[0].path.ends_with(SIG),
        "the full signed URL is requested"
    );
    // The signed URL's token never reaches the report, in any format.
    assert!(
        !o.json.to_string().contains("TOKEN-SHOULD-NOT-LEAK"),
        "{:#}",
        o.json
    );
    for format in ["table", "markdown", "junit"] {
        let out = run(check_args(&fx, &profile, format, &dns, &extra)).await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("TOKEN-SHOULD-NOT-LEAK"), "{format}: {text}");
        assert!(text.contains("assets.example.net"), "{format}: {text}");
    }
}

/// The chain's second host is opened (DNS, TCP, TLS) while the first hop waits for its answer,
/// and the first hop reuses the probe's DNS answer: gh.example.com holds its 302 until the
/// asset host has a connection (a follower that connected only after the 302 would time out
/// on the first hop), and DNS hears each name's two questions once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redirect_target_is_opened_while_the_first_hop_waits() {
    let fx = Fixture::new(CA);
    let asset = assets(&fx, &["assets.example.net"]).await;
    let gh = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["gh.example.com"]),
        routes: github_routes()
            .route(
                PKG,
                HttpResponse::status(302)
                    .header(FINGERPRINT, "R:1")
                    .header("Location", "https://assets.example.net/asset/pkg"),
            )
            .held_until_accepted(PKG, asset.accepted()),
    })
    .await;
    let dns = DnsWorld::at_loopback(&["gh.example.com", "assets.example.net"])
        .start()
        .await;
    // The asset host is reached on the chain's port 443 (a --connect-to to its server), as
    // the URL the profile expects it at.
    let profile = redirect_profile(&fx, 443);
    let mut extra = connect_to("gh.example.com", 443, gh.port());
    extra.extend(connect_to("assets.example.net", 443, asset.port()));
    let o = check(&fx, &profile, &dns, &extra).await;
    assert_eq!(o.code, 0, "{:#}\n{}", o.json, o.stderr);
    let entry = &capability(&o.json, "updates")["entries"][1];
    assert_eq!(
        entry["redirect"]["chain"], "gh.example.com → 302 → assets.example.net → 206",
        "{entry:#}"
    );
    // A and AAAA for each of the two names, once: the hop to gh.example.com used the probe's
    // answer, the asset host was asked once, ahead.
    assert_eq!(dns.queries(), 4, "{:#}", o.json);
}

/// The redirect target refusing (nothing listens at 127.0.0.2), presenting a wrong certificate,
/// or not resolving: the capability FAILS, and the cause names the redirect target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_redirect_target_fails_runner_updates_naming_it() {
    let fx = Fixture::new(CA);
    let wrong_cert = assets(&fx, &["other.example.org"]).await;
    let closed = closed_port();
    let cases: Vec<(&str, DnsWorld, u16, &str)> = vec![
        (
            "refused",
            DnsWorld::at_loopback(&["gh.example.com"]).name(
                "assets.example.net",
                Behaviour::Records(vec![a([127, 0, 0, 2], 60)]),
            ),
            closed,
            "refused",
        ),
        (
            "wrong certificate",
            DnsWorld::at_loopback(&["gh.example.com", "assets.example.net"]),
            wrong_cert.port(),
            "other.example.org",
        ),
        (
            "blocked in DNS",
            DnsWorld::at_loopback(&["gh.example.com"])
                .name("assets.example.net", Behaviour::NxDomain),
            closed,
            "assets.example.net",
        ),
    ];
    for (what, world, port, word) in cases {
        let dns = world.start().await;
        let location = format!("https://assets.example.net:{port}/asset/pkg?{SIG}");
        let o = check_updates_via(&fx, &dns, &location).await;
        assert_eq!(o.code, 1, "{what}: {:#}", o.json);
        let cap = capability(&o.json, "updates");
        assert_eq!(cap["verdict"], "fail", "{what}: {cap:#}");
        let cause = cap["cause"].as_str().unwrap_or("");
        assert!(cause.starts_with("assets.example.net: "), "{what}: {cause}");
        assert!(cause.contains(word), "{what}: {cause}");
        let chain = cap["entries"][1]["redirect"]["chain"]
            .as_str()
            .unwrap_or("");
        assert_eq!(
            chain, "gh.example.com → 302 → assets.example.net → ✗",
            "{what}"
        );
        assert!(!o.json.to_string().contains("TOKEN-SHOULD-NOT-LEAK"));
    }
}

/// A chain that ends in 404, and one that reaches a host the profile does not list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_must_end_in_the_download_at_a_listed_host() {
    let fx = Fixture::new(CA);
    let gone = TestServer::start(Mode::Https {
        cert: fx
            .pki
            .leaf(&["assets.example.net", "elsewhere.example.org"]),
        routes: Routes::new(HttpResponse::status(404)).route(
            "/moved",
            HttpResponse::status(206).header("Content-Range", "bytes 0-0/5"),
        ),
    })
    .await;
    let dns = DnsWorld::at_loopback(&[
        "gh.example.com",
        "assets.example.net",
        "elsewhere.example.org",
    ])
    .start()
    .await;
    let location = format!("https://assets.example.net:{}/nothing", gone.port());
    let o = check_updates_via(&fx, &dns, &location).await;
    let cap = capability(&o.json, "updates");
    assert_eq!(cap["verdict"], "fail", "{cap:#}");
    let cause = cap["cause"].as_str().unwrap_or("");
    assert!(cause.contains("ends in 404"), "{cause}");
    // The diagnosis names the update path, with the host whose answer is not the file.
    let update: Vec<&serde_json::Value> = o.json["diagnosis"]
        .as_array()
        .expect("diagnosis")
        .iter()
        .filter(|d| d["kind"] == "update_path_blocked")
        .collect();
    assert_eq!(update.len(), 1, "{:#}", o.json["diagnosis"]);
    assert_eq!(update[0]["evidence"]["status"], 404, "{:#}", update[0]);
    assert!(
        update[0]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("assets.example.net") && s.contains("ends in 404")),
        "{:#}",
        update[0]
    );
    let location = format!("https://elsewhere.example.org:{}/moved", gone.port());
    let o = check_updates_via(&fx, &dns, &location).await;
    let cap = capability(&o.json, "updates");
    assert_eq!(cap["verdict"], "warn", "{cap:#}");
    let cause = cap["cause"].as_str().unwrap_or("");
    assert!(
        cause.contains("elsewhere.example.org, which the profile does not list"),
        "{cause}"
    );
    let kinds: Vec<&str> = o.json["diagnosis"]
        .as_array()
        .expect("diagnosis")
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"update_path_blocked"), "{kinds:?}");
}

/// The update estimate: 180 MB at the measured download rate against the runner's download
/// timeout, which GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT in the runner's .env overrides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_cannot_finish_in_the_download_timeout_warns() {
    use crate::throttle::{download_server, kbps_to_bytes};
    let fx = Fixture::new(CA);
    let asset = assets(&fx, &["assets.example.net"]).await;
    let gh = github_like(
        &fx,
        &format!("https://assets.example.net:{}/asset/pkg", asset.port()),
    )
    .await;
    let dns = DnsWorld::at_loopback(&["gh.example.com", "assets.example.net"])
        .start()
        .await;
    let profile = redirect_profile(&fx, gh.port());
    let dl = download_server(kbps_to_bytes(2000)).await;
    let mut args = strings(&[
        "check",
        "--profile",
        &profile,
        "--format",
        "json",
        "--quiet",
        "--timeout",
        "2s",
        "--throughput-time",
        "2s",
        "--dns-server",
    ]);
    args.push(dns.addr.to_string());
    args.extend(["--ca-file".into(), fx.ca.display().to_string()]);
    args.extend(fx.agreeing_trust_stores());
    args.extend(connect_to("gh.example.com", 443, gh.port()));
    args.extend([
        "--throughput-url".into(),
        format!("http://127.0.0.1:{}/pkg", dl.addr.port()),
    ]);
    // 180 MB at 2 Mbit/s: 12 minutes, within the default 15.
    let o = run_json(args.clone()).await;
    let d = &o.json["throughput"]["directions"][0];
    assert_eq!(d["update"]["too_slow"], false, "{d:#}");
    assert_eq!(d["update"]["timeout_seconds"], 900);
    assert_eq!(d["verdict"], "pass", "{d:#}");
    // With a 5-minute timeout in the runner's .env it cannot update.
    let env = fx.path(".env");
    let mut text = std::fs::read_to_string(&env).expect(".env");
    text.push_str("GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT=300\n");
    std::fs::write(&env, text).expect("write .env");
    let o = run_json(args).await;
    let d = &o.json["throughput"]["directions"][0];
    assert_eq!(d["update"]["too_slow"], true, "{d:#}");
    assert_eq!(
        d["update"]["timeout_from"],
        "GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT"
    );
    assert_eq!(d["verdict"], "warn", "{d:#}");
    let detail = d["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("the runner cannot update itself over this link"),
        "{detail}"
    );
    assert_eq!(o.code, 0, "a WARN: {:#}", o.json);
}

/// `firewall` knows the redirect target (from the profile, offline too) and resolves its CNAME
/// chain online; `audit` counts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firewall_lists_the_redirect_target_and_its_cname_chain() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::at_loopback(&["gh.example.com"])
        .name(
            "assets.example.net",
            cname("assets.edge.cdn.example.org", 60),
        )
        .name("assets.edge.cdn.example.org", loopback(30))
        .start()
        .await;
    let profile = redirect_profile(&fx, 443);
    let out = run(strings(&[
        "firewall",
        "--profile",
        &profile,
        "--dns-server",
        &dns.addr.to_string(),
        "--timeout",
        "2s",
        "--format",
        "plain",
    ]))
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.lines().any(|l| l == "assets.example.net"), "{text}");
    assert!(
        text.lines().any(|l| l == "assets.edge.cdn.example.org"),
        "{text}"
    );
    let out = run(strings(&[
        "firewall",
        "--profile",
        &profile,
        "--offline",
        "--format",
        "plain",
    ]))
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l == "assets.example.net"),
        "offline: {text}"
    );
    // An allow list without the redirect target does not cover the updates.
    let allow = fx.file("allow.txt", "gh.example.com\n");
    let out = run(strings(&[
        "audit",
        "--profile",
        &profile,
        "--offline",
        "--allowlist",
        &allow.display().to_string(),
    ]))
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("assets.example.net"), "{text}");
}

/// `.runner` and `.credentials` in the runner directory: those exact hosts are probed in
/// essential with their fingerprints, marked as from the runner's files; clientId, the key file
/// and any token never reach an output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosts_of_the_runners_own_settings_are_probed() {
    let fx = Fixture::new(CA);
    let hosts = [
        "pipelinesghubeus7.actions.example.com",
        "broker.actions.example.com",
        "vstoken.actions.example.com",
    ];
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&hosts),
        routes: Routes::new(HttpResponse::status(404))
            .route(
                "/T3N4NT/_apis/connectionData",
                HttpResponse::ok_with("x-vss-e2eid", "e2e"),
            )
            .route("/health", HttpResponse::ok_with(FINGERPRINT, "B:1"))
            .route("/_apis/health", HttpResponse::ok_with("x-vss-e2eid", "e2e")),
    })
    .await;
    let dns = DnsWorld::at_loopback(&hosts).start().await;
    let p = Profile::new("fid", "Fidelity").capability(
        "essential",
        "Essential",
        true,
        &fingerprinted(&["broker.actions.example.com"], "/health"),
    );
    let profile = fx.profile(&p);
    std::fs::write(
        fx.path(".runner"),
        "\u{feff}{\n  \"AgentId\": 12,\n  \"AgentName\": \"r1\",\n  \"PoolId\": 1,\n  \"ServerUrl\": \"https://pipelinesghubeus7.actions.example.com/T3N4NT/\",\n  \"ServerUrlV2\": \"https://broker.actions.example.com/\",\n  \"GitHubUrl\": \"https://broker.actions.example.com/acme\",\n  \"UseV2Flow\": true\n}",
    )
    .expect(".runner");
    std::fs::write(
        fx.path(".credentials"),
        "{\"Scheme\": \"OAuth\", \"Data\": {\"clientId\": \"CLIENT-ID-SECRET\", \"authorizationUrl\": \"https://vstoken.actions.example.com/_apis/oauth2/token/T3N4NT\", \"token\": \"TOKEN-SECRET\"}}",
    )
    .expect(".credentials");
    std::fs::write(
        fx.path(".credentials_rsaparams"),
        "{\"d\": \"RSA-PRIVATE-SECRET\"}",
    )
    .expect("key");
    let extra = strings(&["--connect-to", &format!(":443:127.0.0.1:{}", srv.port())]);
    let o = check(&fx, &profile, &dns, &extra).await;
    assert_eq!(o.code, 0, "{:#}\n{}", o.json, o.stderr);
    let cap = capability(&o.json, "essential");
    assert_eq!(cap["verdict"], "pass", "{cap:#}");
    let from: Vec<(String, String)> = cap["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["origin"]["kind"] == "runner_file")
        .map(|e| {
            (
                e["pattern"].as_str().unwrap_or("").to_string(),
                e["origin"]["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        from,
        [
            (
                "pipelinesghubeus7.actions.example.com".to_string(),
                "ServerUrl".to_string()
            ),
            (
                "vstoken.actions.example.com".to_string(),
                "authorizationUrl".to_string()
            ),
        ],
        "ServerUrlV2 and GitHubUrl repeat what the profile already checks: {cap:#}"
    );
    let paths: Vec<String> = srv.seen_requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.contains(&"/T3N4NT/_apis/connectionData".to_string()),
        "{paths:?}"
    );
    assert!(paths.contains(&"/_apis/health".to_string()), "{paths:?}");
    let note = cap["entries"][1]["note"].as_str().unwrap_or("");
    assert!(note.starts_with("from .runner (ServerUrl)"), "{note}");
    // No secret in any format.
    let mut outputs = vec![o.json.to_string()];
    for format in ["table", "markdown", "junit"] {
        let out = run(check_args(&fx, &profile, format, &dns, &extra)).await;
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    for text in &outputs {
        for secret in [
            "CLIENT-ID-SECRET",
            "TOKEN-SECRET",
            "RSA-PRIVATE-SECRET",
            "clientId",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

/// Malformed or missing settings files: a finding naming the file; the run goes on with the
/// profile's hosts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_runner_settings_are_a_finding_and_the_run_goes_on() {
    let fx = Fixture::new(CA);
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["api.example.com"]),
        routes: github_routes(),
    })
    .await;
    let dns = DnsWorld::at_loopback(&["api.example.com"]).start().await;
    let p = Profile::new("fid", "Fidelity").capability(
        "essential",
        "Essential",
        true,
        &fingerprinted(&["api.example.com"], "/"),
    );
    let profile = fx.profile(&p);
    std::fs::write(
        fx.path(".runner"),
        "{\"ServerUrl\": \"https://x.example/\",, \"clientId\": \"LEAK\"}",
    )
    .expect(".runner");
    let o = check(
        &fx,
        &profile,
        &dns,
        &connect_to("api.example.com", 443, srv.port()),
    )
    .await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(capability(&o.json, "essential")["verdict"], "pass");
    let messages: Vec<&str> = o.json["network"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["topic"] == "runner")
        .map(|f| f["message"].as_str().unwrap_or(""))
        .collect();
    let runner = fx.path(".runner").display().to_string();
    let credentials = fx.path(".credentials").display().to_string();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("{runner}:1:")) && m.contains("not a JSON object")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("{credentials} does not exist"))),
        "{messages:?}"
    );
    assert!(!o.json.to_string().contains("LEAK"));
    assert_eq!(
        o.json["verdict"], "warn",
        "a malformed .runner is a warning"
    );
}

// ---------------------------------------------------------------------------------------------
// Self-signed certificates and every certificate failure rcgen can make
// ---------------------------------------------------------------------------------------------

const HOST: &str = "ghes.example.com";

/// `check` of HOST served with `cert`, trusting `trusted` (PEM files: --ca-file, and the .env
/// of git and node, and --public-roots, so the stores agree).
async fn tls_case(cert: CertKey, trusted: &[&std::path::Path]) -> Outcome {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = TestServer::start(Mode::Https {
        cert,
        routes: github_routes(),
    })
    .await;
    let dns = DnsWorld::at_loopback(&[HOST]).start().await;
    let profile = dir.path().join("p.yaml");
    std::fs::write(
        &profile,
        Profile::new("tls", "TLS")
            .capability("core", "Core", true, &fingerprinted(&[HOST], "/"))
            .yaml(),
    )
    .expect("profile");
    let mut args = strings(&[
        "check",
        "--profile",
        &profile.display().to_string(),
        "--format",
        "json",
        "--quiet",
        "--no-throughput",
        "--timeout",
        "2s",
        "--dns-server",
    ]);
    args.push(dns.addr.to_string());
    for t in trusted {
        args.extend(["--ca-file".into(), t.display().to_string()]);
    }
    if let Some(first) = trusted.first() {
        agreeing_env(dir.path(), first);
        args.extend(["--public-roots".into(), first.display().to_string()]);
    }
    args.extend(["--runner-dir".into(), dir.path().display().to_string()]);
    args.extend(connect_to(HOST, 443, srv.port()));
    let o = run_json(args).await;
    drop(dir);
    o
}

/// No library or type names in a cause.
fn assert_plain(cause: &str) {
    for word in [
        "CaUsedAsEndEntity",
        "OtherError",
        "InvalidCertificate",
        "webpki",
        "rustls",
        "Other(",
        "Error(",
    ] {
        assert!(!cause.contains(word), "library words in: {cause}");
    }
}

fn tls_cause(o: &Outcome) -> String {
    cause(&o.json, HOST)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_openssl_style_self_signed_certificate_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    let cert = openssl_self_signed(&[HOST], (-1, 30));
    let pem = write_pem(dir.path(), "self.pem", &cert.cert_chain_pem);
    let o = tls_case(cert, &[&pem]).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(target(&o.json, HOST)["verdict"], "pass", "{:#}", o.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_failures_are_worded() {
    let fx = Fixture::new(CA);
    // Not in any store.
    let o = tls_case(openssl_self_signed(&[HOST], (-1, 30)), &[&fx.ca]).await;
    assert_eq!(o.code, 1);
    let c = tls_cause(&o);
    assert!(
        c.contains(&format!("certificate for {HOST} is self-signed"))
            && c.contains("not in any trust store"),
        "{c}"
    );
    assert_plain(&c);
    // Trusted, but expired.
    let dir = tempfile::tempdir().expect("tmp");
    let expired = openssl_self_signed(&[HOST], (-60, -30));
    let pem = write_pem(dir.path(), "expired.pem", &expired.cert_chain_pem);
    let o = tls_case(expired, &[&pem]).await;
    assert_eq!(o.code, 1);
    let c = tls_cause(&o);
    assert!(c.contains("expired"), "{c}");
    assert_plain(&c);
    // Trusted, but for another name.
    let other = openssl_self_signed(&["intranet.example.org"], (-1, 30));
    let pem = write_pem(dir.path(), "other.pem", &other.cert_chain_pem);
    let o = tls_case(other, &[&pem]).await;
    assert_eq!(o.code, 1);
    let c = tls_cause(&o);
    assert!(
        c.contains("is for other names: intranet.example.org"),
        "{c}"
    );
    assert_plain(&c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rejections_are_worded_without_library_names() {
    let fx = Fixture::new(CA);
    let other_ca = Pki::new("Somebody Else's CA");
    let cases: Vec<(&str, CertKey, &str)> = vec![
        (
            "client-auth only",
            fx.pki.leaf_with(&[HOST], |p| {
                p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
            }),
            "rejected: it is not meant for TLS servers",
        ),
        (
            "a CA certificate as the server's own",
            fx.pki.leaf_with(&[HOST], |p| {
                p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            }),
            "rejected: it is a CA certificate, presented as the server's own, and no trust store holds it",
        ),
        (
            "not valid yet",
            fx.pki.leaf_with(&[HOST], |p| {
                p.not_before = time::OffsetDateTime::now_utc() + time::Duration::days(2);
                p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
            }),
            "not valid yet",
        ),
        ("expired", fx.pki.leaf_expired(&[HOST]), "expired"),
        ("wrong name", fx.pki.leaf(&["other.example.com"]), "for other names"),
        ("unknown issuer", other_ca.leaf(&[HOST]), "Somebody Else's CA"),
    ];
    for (what, cert, words) in cases {
        let o = tls_case(cert, &[&fx.ca]).await;
        assert_eq!(o.code, 1, "{what}: {:#}", o.json);
        let c = tls_cause(&o);
        assert!(
            c.starts_with("certificate ") && c.contains(words),
            "{what}: {c}"
        );
        assert_plain(&c);
    }
}
