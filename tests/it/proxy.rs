//! Proxies, the three trust stores, TLS interception, clock skew and long polls, end to end
//! against in-process proxies (tests/it/proxy_server.rs) and the loopback world.

use serde_json::Value;

use crate::world::*;

/// A fixture (CA "Preflight Test Root CA") whose profile has one gating capability `essential`
/// holding `hosts` (HTTPS, fingerprint); returns the profile's path too.
fn fixture(hosts: &[&str]) -> (Fixture, String) {
    let fx = Fixture::new("Preflight Test Root CA");
    let profile = fx.profile(&Profile::new("test", "Proxy test world").capability(
        "essential",
        "Essential",
        true,
        &fingerprinted(hosts, "/_ping"),
    ));
    (fx, profile)
}

fn base_args(profile: &str, dns: &DnsServer, format: &str, extra: &[String]) -> Vec<String> {
    let mut a = strings(&[
        "check",
        "--profile",
        profile,
        "--format",
        format,
        "--quiet",
        "--dns-server",
        &dns.addr.to_string(),
        "--timeout",
        "2s",
    ]);
    a.extend(extra.iter().cloned());
    a
}

fn findings(json: &Value, topic: &str) -> Vec<Value> {
    json["network"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["topic"] == topic)
        .cloned()
        .collect()
}

const API: &str = "api.github.com";

/// Extra environment variables for one run.
type Envs = Vec<(&'static str, String)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_only_egress_passes_only_with_the_proxy() {
    let (fx, profile) = fixture(&[API]);
    let (pki, ca) = (&fx.pki, &fx.ca);
    // Local DNS knows nothing: every name is NXDOMAIN.
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: pki.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let proxy = TestProxy::start(ProxyMode::Forward, &[("api.github.com:443", srv.addr)]).await;
    let ca_arg = strings(&["--ca-file", &ca.display().to_string()]);

    // No proxy: DNS fails, the gate fails.
    let o = run_text(base_args(&profile, &dns, "json", &ca_arg), vec![]).await;
    assert_eq!(o.code, 1, "{}", o.stdout);
    let j = o.json();
    assert_eq!(target(&j, API)["route"], "direct");
    assert_eq!(target(&j, API)["dns"]["verdict"], "fail");

    // --proxy: the proxy resolves and connects; local DNS failure is only noted.
    let mut args = ca_arg.clone();
    args.extend(strings(&["--proxy", &proxy.url()]));
    let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
    let j = o.json();
    assert_eq!(o.code, 0, "{j:#}");
    let t = target(&j, API);
    assert_eq!(t["route"], "proxy");
    assert_eq!(t["verdict"], "pass", "{t:#}");
    assert_eq!(t["dns"]["verdict"], "skip");
    assert!(
        t["dns"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("the proxy resolves"),
        "{t:#}"
    );
    assert_eq!(findings(&j, "dns").len(), 1, "{j:#}");
    assert!(proxy
        .requests()
        .contains(&"CONNECT api.github.com:443 HTTP/1.1".to_string()));
    assert!(srv.requests().iter().any(|r| r.1 == "/_ping"));

    // The same through https_proxy without a scheme: the runner prepends http://, we warn.
    let bare = proxy.addr.to_string();
    let o = run_text(
        base_args(&profile, &dns, "json", &ca_arg),
        vec![("https_proxy", format!("  {bare} "))],
    )
    .await;
    let j = o.json();
    assert_eq!(o.code, 0, "{j:#}");
    assert_eq!(j["network"]["proxy"]["https"]["from"], "https_proxy");
    assert!(
        findings(&j, "proxy")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("no scheme")),
        "{j:#}"
    );

    // http_proxy alone does not carry HTTPS: no fallback.
    let o = run_text(
        base_args(&profile, &dns, "json", &ca_arg),
        vec![("http_proxy", proxy.url())],
    )
    .await;
    let j = o.json();
    assert_eq!(o.code, 1);
    assert_eq!(target(&j, API)["route"], "direct");
    assert!(findings(&j, "proxy").iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("does not fall back")));

    // no_proxy=github.com covers api.github.com: direct, and DNS fails.
    let o = run_text(
        base_args(&profile, &dns, "json", &ca_arg),
        vec![
            ("HTTPS_PROXY", proxy.url()),
            ("NO_PROXY", "example.org,github.com".into()),
        ],
    )
    .await;
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert_eq!(target(&o.json(), API)["route"], "direct");

    // `.github.com` (subdomains) covers it too; `*.github.com` never matches in the runner.
    for (list, route) in [(".github.com", "direct"), ("*.github.com", "proxy")] {
        let mut args = ca_arg.clone();
        args.extend(strings(&["--proxy", &proxy.url(), "--no-proxy", list]));
        let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
        assert_eq!(target(&o.json(), API)["route"], route, "no_proxy={list}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_env_file_overrides_the_environment() {
    let (fx, profile) = fixture(&[API]);
    let (pki, ca) = (&fx.pki, &fx.ca);
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: pki.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let proxy = TestProxy::start(ProxyMode::Forward, &[("api.github.com:443", srv.addr)]).await;
    let runner = tempfile::tempdir().unwrap();
    std::fs::write(
        runner.path().join(".env"),
        format!(
            "LANG=C.UTF-8\nhttps_proxy={}\nNODE_EXTRA_CA_CERTS={}\nGIT_SSL_CAINFO={}\n",
            proxy.url(),
            ca.display(),
            ca.display()
        ),
    )
    .unwrap();
    let args = strings(&[
        "--ca-file",
        &ca.display().to_string(),
        "--runner-dir",
        &runner.path().display().to_string(),
    ]);
    let o = run_text(
        base_args(&profile, &dns, "json", &args),
        vec![("https_proxy", format!("http://127.0.0.1:{}", closed_port()))],
    )
    .await;
    let j = o.json();
    assert_eq!(o.code, 0, "{j:#}");
    assert_eq!(
        j["network"]["proxy"]["https"]["from"],
        "https_proxy (runner .env)"
    );
    assert_eq!(target(&j, API)["route"], "proxy");
    // The trust-store variables of .env count too: node and git trust the CA as the runner does.
    assert!(findings(&j, "trust_store").is_empty(), "{j:#}");
    assert!(j["network"]["trust_stores"]["node"]
        .as_str()
        .unwrap()
        .contains("NODE_EXTRA_CA_CERTS="));

    // A directory that does not exist is an input error.
    let o = run_text(
        base_args(
            &profile,
            &dns,
            "json",
            &strings(&["--runner-dir", "/nonexistent/runner"]),
        ),
        vec![],
    )
    .await;
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--runner-dir"), "{}", o.stderr);
}

/// `--timeout 2s` (see `base_args`) plus one second.
const PROXY_FAULT_BOUND: std::time::Duration = std::time::Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_answers_are_classified() {
    let (fx, profile) = fixture(&[API]);
    let (pki, ca) = (&fx.pki, &fx.ca);
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: pki.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let up = [("api.github.com:443", srv.addr)];
    let auth = TestProxy::start(
        ProxyMode::Auth {
            user: "alice".into(),
            pass: "wonderland".into(),
        },
        &up,
    )
    .await;
    let p403 = TestProxy::start(ProxyMode::Status(403), &up).await;
    let p502 = TestProxy::start(ProxyMode::Status(502), &up).await;
    let hang = TestProxy::start(ProxyMode::HangAfterConnect, &up).await;
    let silent = TestProxy::start(ProxyMode::SilentTunnel, &up).await;
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let cases: Vec<(String, &str)> = vec![
        (auth.url(), "requires authentication"),
        (auth.url_with("alice", "wrong"), "rejected the credentials"),
        (p403.url(), "403 Forbidden"),
        (
            p502.url(),
            "could not reach api.github.com:443: 502 Bad Gateway",
        ),
        (
            hang.url(),
            "did not answer CONNECT api.github.com:443 within",
        ),
        (
            silent.url(),
            "no TLS handshake came back through the tunnel",
        ),
        (refused, "unreachable: refuses connections"),
    ];
    for (url, want) in cases {
        let args = strings(&["--ca-file", &ca.display().to_string(), "--proxy", &url]);
        let started = std::time::Instant::now();
        let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
        let elapsed = started.elapsed();
        assert_eq!(o.code, 1, "{url}: {}", o.stdout);
        let c = cause(&o.json(), API);
        assert!(c.contains(want), "{url}: cause {c:?} lacks {want:?}");
        // The fault matrix's bound: a proxy fault ends within its --timeout plus one second.
        assert!(
            elapsed < PROXY_FAULT_BOUND,
            "{url}: took {elapsed:?}, more than --timeout + 1 s"
        );
    }
    // The right credentials pass, sent as Basic.
    let args = strings(&[
        "--ca-file",
        &ca.display().to_string(),
        "--proxy",
        &auth.url_with("alice", "wonderland"),
    ]);
    let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(auth
        .auth_headers()
        .contains(&"Basic YWxpY2U6d29uZGVybGFuZA==".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_credentials_never_appear_in_any_output() {
    const SECRET: &str = "Tr0ub4dor-and-3";
    let (fx, profile) = fixture(&[API]);
    let (pki, ca) = (&fx.pki, &fx.ca);
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: pki.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let proxy = TestProxy::start(
        ProxyMode::Auth {
            user: "bob".into(),
            pass: SECRET.into(),
        },
        &[("api.github.com:443", srv.addr)],
    )
    .await;
    let good = proxy.url_with("bob", SECRET);
    let wrong = format!("http://bob:{SECRET}x@{}", proxy.addr);
    let no_scheme = format!("bob:{SECRET}@{}", proxy.addr);
    let ca_s = ca.display().to_string();
    let mut runs: Vec<(Vec<String>, Envs)> = Vec::new();
    for format in ["table", "json"] {
        // flag, passing
        runs.push((
            base_args(
                &profile,
                &dns,
                format,
                &strings(&["--ca-file", &ca_s, "--proxy", &good]),
            ),
            vec![],
        ));
        // flag, rejected credentials
        runs.push((
            base_args(
                &profile,
                &dns,
                format,
                &strings(&["--ca-file", &ca_s, "--proxy", &wrong]),
            ),
            vec![],
        ));
        // variables: no scheme (warning quotes the value), differing upper case
        runs.push((
            base_args(&profile, &dns, format, &strings(&["--ca-file", &ca_s])),
            vec![
                ("https_proxy", no_scheme.clone()),
                ("HTTPS_PROXY", wrong.clone()),
                ("http_proxy", good.clone()),
            ],
        ));
        // invalid value in a variable (the runner ignores it)
        runs.push((
            base_args(&profile, &dns, format, &strings(&["--ca-file", &ca_s])),
            vec![("https_proxy", format!("http://bob:{SECRET}@host:notaport"))],
        ));
    }
    // invalid --proxy: usage error
    runs.push((
        base_args(
            &profile,
            &dns,
            "json",
            &strings(&["--proxy", &format!("http://bob:{SECRET}@[::1")]),
        ),
        vec![],
    ));
    runs.push((
        base_args(
            &profile,
            &dns,
            "json",
            &strings(&["--proxy", &format!("socks5://bob:{SECRET}@127.0.0.1:1")]),
        ),
        vec![],
    ));
    // output to a file: the file too
    let out_file = fx.dir.path().join("report.json");
    runs.push((
        base_args(
            &profile,
            &dns,
            "json",
            &strings(&[
                "--ca-file",
                &ca_s,
                "--proxy",
                &good,
                "--output",
                &out_file.display().to_string(),
            ]),
        ),
        vec![],
    ));
    let mut saw_masked = false;
    for (args, envs) in runs {
        let shown = format!("{args:?}");
        let o = run_text(args, envs).await;
        for (name, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            assert!(
                !text.contains(SECRET) && !text.contains("VHIwdWI0ZG9y"),
                "{name} of {shown} shows the password:\n{text}"
            );
        }
        saw_masked |= o.stdout.contains("bob:***@");
    }
    assert!(saw_masked, "the masked URL is shown somewhere");
    let file = std::fs::read_to_string(&out_file).unwrap();
    assert!(!file.contains(SECRET));
    assert!(file.contains("http://bob:***@127.0.0.1"), "{file}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_trust_stores_disagree_and_say_what_to_set() {
    let (fx, profile) = fixture(&[API]);
    let corp = Pki::new("Corp Inspection Root");
    let public = Pki::new("Modelled Public Root");
    let corp_pem = fx.file("corp.pem", &corp.ca_pem);
    let public_pem = fx.file("public.pem", &public.ca_pem);
    let dns = DnsWorld::new()
        .name(
            API,
            Behaviour::Records(vec![(Answer::A(std::net::Ipv4Addr::LOCALHOST), 60)]),
        )
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: corp.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let args = strings(&[
        "--ca-file",
        &corp_pem.display().to_string(),
        "--public-roots",
        &public_pem.display().to_string(),
        "--connect-to",
        &format!("{API}:443:127.0.0.1:{}", srv.port()),
    ]);
    // OS store (--ca-file) and git (GIT_SSL_CAINFO) trust the corporate CA; node does not.
    let o = run_text(
        base_args(&profile, &dns, "json", &args),
        vec![("GIT_SSL_CAINFO", corp_pem.display().to_string())],
    )
    .await;
    let j = o.json();
    assert_eq!(o.code, 0, "the runner itself connects: {j:#}");
    // …but JavaScript actions would not: never an unqualified PASS.
    assert_eq!(j["verdict"], "warn", "{j:#}");
    let tls = target(&j, API)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["phase"] == "tls")
        .unwrap()["tls"]["stores"]
        .clone();
    assert_eq!(tls["runner"], true, "{tls:#}");
    assert_eq!(tls["git"], true);
    assert_eq!(tls["node"], false);
    assert_eq!(tls["public_root"], false);
    let stores = findings(&j, "trust_store");
    assert_eq!(stores.len(), 1, "{stores:#?}");
    assert!(stores[0]["message"].as_str().unwrap().contains("node"));
    let fix = stores[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("NODE_EXTRA_CA_CERTS={}", corp_pem.display())),
        "{fix}"
    );
    let icpt = findings(&j, "interception");
    assert_eq!(icpt.len(), 1);
    assert!(icpt[0]["message"]
        .as_str()
        .unwrap()
        .contains("Corp Inspection Root"));

    // Git without GIT_SSL_CAINFO (OpenSSL's bundle, empty here) disagrees too: say GIT_SSL_CAINFO.
    let o = run_text(base_args(&profile, &dns, "table", &args), vec![]).await;
    assert_eq!(o.code, 0);
    assert!(
        o.stdout
            .contains(&format!("GIT_SSL_CAINFO={}", corp_pem.display())),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("NODE_EXTRA_CA_CERTS="), "{}", o.stdout);

    // All three configured: no disagreement (interception is still reported).
    let o = run_text(
        base_args(&profile, &dns, "json", &args),
        vec![
            ("GIT_SSL_CAINFO", corp_pem.display().to_string()),
            ("NODE_EXTRA_CA_CERTS", corp_pem.display().to_string()),
        ],
    )
    .await;
    let j = o.json();
    assert!(findings(&j, "trust_store").is_empty(), "{j:#}");
    assert_eq!(findings(&j, "interception").len(), 1);

    // Only node trusts it (NODE_EXTRA_CA_CERTS): the runner fails and is told which file to add.
    let args_public_only = strings(&[
        "--ca-file",
        &public_pem.display().to_string(),
        "--public-roots",
        &public_pem.display().to_string(),
        "--connect-to",
        &format!("{API}:443:127.0.0.1:{}", srv.port()),
    ]);
    let o = run_text(
        base_args(&profile, &dns, "json", &args_public_only),
        vec![("NODE_EXTRA_CA_CERTS", corp_pem.display().to_string())],
    )
    .await;
    let j = o.json();
    assert_eq!(o.code, 1, "{j:#}");
    let runner = findings(&j, "trust_store");
    let runner: Vec<&Value> = runner
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .starts_with("the runner itself")
        })
        .collect();
    assert_eq!(runner.len(), 1, "{j:#}");
    assert!(runner[0]["message"]
        .as_str()
        .unwrap()
        .contains("node trusts"));
    assert!(runner[0]["fix"]
        .as_str()
        .unwrap()
        .contains(&format!("add {} to the OS store", corp_pem.display())));

    // A server with a (modelled) public certificate: nothing to report.
    let pub_srv = TestServer::start(Mode::Https {
        cert: public.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let args = strings(&[
        "--ca-file",
        &public_pem.display().to_string(),
        "--public-roots",
        &public_pem.display().to_string(),
        "--connect-to",
        &format!("{API}:443:127.0.0.1:{}", pub_srv.port()),
    ]);
    let o = run_text(
        base_args(&profile, &dns, "json", &args),
        vec![("GIT_SSL_CAINFO", public_pem.display().to_string())],
    )
    .await;
    let j = o.json();
    assert!(findings(&j, "trust_store").is_empty(), "{j:#}");
    assert!(findings(&j, "interception").is_empty(), "{j:#}");

    // An expired certificate from the public CA fails, but it is not interception.
    let expired = TestServer::start(Mode::Https {
        cert: public.leaf_expired(&[API]),
        routes: github_routes(),
    })
    .await;
    let args = strings(&[
        "--ca-file",
        &public_pem.display().to_string(),
        "--public-roots",
        &public_pem.display().to_string(),
        "--connect-to",
        &format!("{API}:443:127.0.0.1:{}", expired.port()),
    ]);
    let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
    let j = o.json();
    assert_eq!(o.code, 1);
    assert!(cause(&j, API).contains("expired"), "{j:#}");
    assert!(findings(&j, "interception").is_empty(), "{j:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intercepting_proxy_is_detected_and_named() {
    let (fx, profile) = fixture(&[API]);
    let public = Pki::new("Modelled Public Root");
    let inspector = Pki::new("Acme TLS Inspection CA");
    let public_pem = fx.file("public.pem", &public.ca_pem);
    let inspector_pem = fx.file("inspector.pem", &inspector.ca_pem);
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: public.leaf(&[API]),
        routes: github_routes(),
    })
    .await;
    let proxy = TestProxy::start(
        ProxyMode::Intercept {
            ca: Box::new(inspector),
            upstream_ca: public.ca_der.clone(),
        },
        &[("api.github.com:443", srv.addr)],
    )
    .await;
    // The OS store trusts the inspector (--ca-file): the runner connects, but it is interception.
    let args = strings(&[
        "--ca-file",
        &inspector_pem.display().to_string(),
        "--public-roots",
        &public_pem.display().to_string(),
        "--proxy",
        &proxy.url(),
    ]);
    let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
    let j = o.json();
    assert_eq!(o.code, 0, "{j:#}");
    let icpt = findings(&j, "interception");
    assert_eq!(icpt.len(), 1, "{j:#}");
    let msg = icpt[0]["message"].as_str().unwrap();
    assert!(msg.contains("Acme TLS Inspection CA"), "{msg}");
    assert!(msg.contains("re-signs"), "{msg}");
    assert!(findings(&j, "trust_store").iter().any(|f| f["fix"]
        .as_str()
        .unwrap()
        .contains(&format!("NODE_EXTRA_CA_CERTS={}", inspector_pem.display()))));

    // Only the public root trusted: the handshake fails and names the inspecting issuer.
    let args = strings(&[
        "--ca-file",
        &public_pem.display().to_string(),
        "--public-roots",
        &public_pem.display().to_string(),
        "--proxy",
        &proxy.url(),
        // The name's own row ("via proxy"): the interception cause folds it otherwise.
        "--verbose",
    ]);
    let o = run_text(base_args(&profile, &dns, "table", &args), vec![]).await;
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("Acme TLS Inspection CA"), "{}", o.stdout);
    assert!(o.stdout.contains("TLS interception"), "{}", o.stdout);
    assert!(o.stdout.contains("via proxy"), "{}", o.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_reported_from_the_date_header() {
    let (fx, profile) = fixture(&[API]);
    let (pki, ca) = (&fx.pki, &fx.ca);
    let dns = DnsWorld::new()
        .name(
            API,
            Behaviour::Records(vec![(Answer::A(std::net::Ipv4Addr::LOCALHOST), 60)]),
        )
        .start()
        .await;
    let old = TestServer::start(Mode::Https {
        cert: pki.leaf(&[API]),
        routes: Routes::new(
            HttpResponse::ok_with(FINGERPRINT, "x").header("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ),
    })
    .await;
    let now = TestServer::start(Mode::Https {
        cert: pki.leaf(&[API]),
        routes: Routes::new(HttpResponse::ok_with(FINGERPRINT, "x").header(
            "Date",
            &httpdate::fmt_http_date(std::time::SystemTime::now()),
        )),
    })
    .await;
    for (srv, skewed) in [(&old, true), (&now, false)] {
        let args = strings(&[
            "--ca-file",
            &ca.display().to_string(),
            "--connect-to",
            &format!("{API}:443:127.0.0.1:{}", srv.port()),
        ]);
        let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
        let j = o.json();
        assert_eq!(o.code, 0, "{j:#}");
        let clock = findings(&j, "clock");
        let skew = j["network"]["clock"]["skew_seconds"].as_i64().unwrap();
        if skewed {
            assert_eq!(clock.len(), 1, "{j:#}");
            let m = clock[0]["message"].as_str().unwrap();
            assert!(m.contains("ahead") && m.contains("1994"), "{m}");
            assert!(skew > 300);
        } else {
            assert!(clock.is_empty(), "{j:#}");
            assert!(skew.abs() <= 60, "{skew}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_reports_a_proxy_cutting_idle_tunnels() {
    let broker = "broker.actions.githubusercontent.com";
    let (fx, profile) = fixture(&[broker]);
    let (pki, ca) = (&fx.pki, &fx.ca);
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: pki.leaf(&[broker]),
        routes: github_routes(),
    })
    .await;
    let up = [("broker.actions.githubusercontent.com:443", srv.addr)];
    let cutter = TestProxy::start(ProxyMode::CutIdle(std::time::Duration::from_secs(1)), &up).await;
    let patient = TestProxy::start(ProxyMode::Forward, &up).await;
    for (proxy, hold, survives) in [(&cutter, "4", false), (&patient, "2", true)] {
        let args = strings(&[
            "--ca-file",
            &ca.display().to_string(),
            "--proxy",
            &proxy.url(),
            "--long-poll",
            "--long-poll-seconds",
            hold,
        ]);
        let o = run_text(base_args(&profile, &dns, "json", &args), vec![]).await;
        let j = o.json();
        let lp = &j["network"]["long_poll"];
        assert_eq!(lp["host"], broker, "{j:#}");
        assert_eq!(lp["route"], "proxy");
        assert_eq!(lp["survived"], survives, "{lp:#}");
        let detail = lp["detail"].as_str().unwrap();
        if survives {
            assert!(detail.contains("still answered"), "{detail}");
        } else {
            assert!(detail.contains("was closed after "), "{detail}");
            assert!(detail.contains("of the 4.0 s hold"), "{detail}");
            assert_eq!(findings(&j, "long_poll")[0]["severity"], "warn");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_goes_through_http_proxy_in_absolute_form() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    std::fs::write(
        &profile,
        "schema_version: 1\nname: t\ntitle: t\ncapabilities:\n  - id: essential\n    title: E\n    gating: true\n    entries:\n      - host: ghes.example.com\n        scheme: http\n        http: { path: /status, expect_header: X-GitHub-Request-Id }\n",
    )
    .unwrap();
    let ca = write_pem(dir.path(), "ca.pem", &Pki::new("Unused Root").ca_pem);
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Http {
        routes: github_routes(),
    })
    .await;
    let proxy = TestProxy::start(
        ProxyMode::Auth {
            user: "u".into(),
            pass: "p".into(),
        },
        &[("ghes.example.com:80", srv.addr)],
    )
    .await;
    let args = vec![
        "check".to_string(),
        "--profile".into(),
        profile.display().to_string(),
        "--format".into(),
        "json".into(),
        "--quiet".into(),
        "--dns-server".into(),
        dns.addr.to_string(),
        "--timeout".into(),
        "2s".into(),
        "--ca-file".into(),
        ca.display().to_string(),
    ];
    let o = run_text(args, vec![("http_proxy", proxy.url_with("u", "p"))]).await;
    let j = o.json();
    assert_eq!(o.code, 0, "{j:#}\n{}", o.stderr);
    assert_eq!(target(&j, "ghes.example.com")["route"], "proxy");
    assert!(proxy
        .requests()
        .iter()
        .any(|r| r == "GET http://ghes.example.com/status HTTP/1.1"));
}

/// Without a fingerprint, a proxy's own 403/407/502 on plain HTTP must not pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_refused_by_the_proxy_fails_without_a_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    std::fs::write(
        &profile,
        "schema_version: 1\nname: t\ntitle: t\ncapabilities:\n  - id: essential\n    title: E\n    gating: true\n    entries:\n      - host: ghes.example.com\n        scheme: http\n",
    )
    .unwrap();
    let ca = write_pem(dir.path(), "ca.pem", &Pki::new("Unused Root").ca_pem);
    let dns = DnsWorld::new().start().await;
    for status in [403u16, 407, 502] {
        let proxy = TestProxy::start(ProxyMode::Status(status), &[]).await;
        let args = vec![
            "check".to_string(),
            "--profile".into(),
            profile.display().to_string(),
            "--format".into(),
            "json".into(),
            "--quiet".into(),
            "--no-throughput".into(),
            "--dns-server".into(),
            dns.addr.to_string(),
            "--timeout".into(),
            "2s".into(),
            "--ca-file".into(),
            ca.display().to_string(),
        ];
        let o = run_text(args, vec![("http_proxy", proxy.url())]).await;
        let j = o.json();
        assert_eq!(o.code, 1, "{status}: {j:#}");
        let t = target(&j, "ghes.example.com");
        assert_eq!(t["verdict"], "fail", "{status}: {t:#}");
        assert!(
            t["cause"]
                .as_str()
                .unwrap_or("")
                .contains(&status.to_string()),
            "{t:#}"
        );
    }
}
