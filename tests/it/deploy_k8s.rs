//! The Kubernetes manifests in `deploy/`, as an operator meets them: `kubectl apply -f
//! deploy/kubernetes/` must work on any cluster as it is (core objects only, the namespace first,
//! no Helm values, one monitor kind), every manifest passes a Kubernetes schema validator, and the
//! commands in them are real flags of `check`.
//!
//! The validator is `kubernetes-validate` (PyPI; it carries the schemas, so it works offline).
//! `.ci/run` installs it; under CI=true a missing validator fails the test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::pipeline::{assert_documented_flags, container_args, repo_file, yaml};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const NAMESPACE: &str = "runner-preflight";

/// The API groups a cluster has without any add-on (what `kubectl apply` accepts anywhere).
const CORE_API_VERSIONS: &[&str] = &["v1", "apps/v1", "batch/v1", "networking.k8s.io/v1"];

/// Every document of a (possibly multi-document) YAML file.
fn documents(rel: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&repo_file(rel))
        .unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// The manifest files directly in `dir` (what `kubectl apply -f dir` reads: no subfolders), in
/// the order kubectl applies them (by name).
fn manifests_in(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(Path::new(REPO).join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| v == "true")
}

fn find_tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[test]
fn the_kubernetes_folder_applies_as_it_is_on_any_cluster() {
    let files = manifests_in("deploy/kubernetes");
    assert!(
        files.len() >= 3,
        "the namespace, the exporter, the node check: {files:?}"
    );
    // kubectl applies the files of a folder in name order: the namespace must come first.
    let first = documents(&files[0]);
    assert_eq!(
        first[0]["kind"], "Namespace",
        "{} is applied first",
        files[0]
    );
    assert_eq!(first[0]["metadata"]["name"], NAMESPACE);

    let mut kinds = BTreeSet::new();
    for f in &files {
        for d in documents(f) {
            // A Helm values file has no apiVersion/kind: kubectl refuses it, so it must not be here.
            let api = d["apiVersion"]
                .as_str()
                .unwrap_or_else(|| panic!("{f}: a document without apiVersion (Helm values?)"));
            let kind = d["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{f}: a document without kind"));
            assert!(
                CORE_API_VERSIONS.contains(&api),
                "{f}: {kind} of {api} needs CRDs a cluster may not have: it belongs in a subfolder"
            );
            if kind != "Namespace" {
                assert_eq!(d["metadata"]["namespace"], NAMESPACE, "{f}: {kind}");
            }
            kinds.insert(kind.to_string());
        }
    }
    assert!(kinds.contains("DaemonSet"), "{kinds:?}");
    assert!(
        !kinds.contains("ServiceMonitor") && !kinds.contains("PodMonitor"),
        "{kinds:?}"
    );
    // A file's name says what it holds: a DaemonSet is not called a job.
    for f in &files {
        for d in documents(f) {
            if d["kind"] == "DaemonSet" {
                assert!(f.contains("daemonset"), "{f} holds a DaemonSet");
            }
        }
    }
}

#[test]
fn one_monitor_kind_is_applied_by_default_and_it_finds_the_exporter() {
    let monitors = manifests_in("deploy/kubernetes/prometheus-operator");
    let kinds: Vec<String> = monitors
        .iter()
        .flat_map(|f| documents(f))
        .map(|d| d["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["ServiceMonitor"], "{monitors:?}");
    let sm = &documents(&monitors[0])[0];

    // The Service the ServiceMonitor selects, and the port it scrapes, exist.
    let service = documents("deploy/kubernetes/exporter-daemonset.yaml")
        .into_iter()
        .find(|d| d["kind"] == "Service")
        .expect("the exporter's Service");
    let labels = service["metadata"]["labels"].as_object().expect("labels");
    for (k, v) in sm["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels")
    {
        assert_eq!(labels.get(k), Some(v), "ServiceMonitor selects {k}={v}");
    }
    let port = sm["spec"]["endpoints"][0]["port"].as_str().expect("port");
    assert!(
        service["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["name"] == port),
        "the Service has no port named {port}"
    );

    // The PodMonitor is the alternative, in a folder of its own, selecting the exporter's pods.
    let pm = manifests_in("deploy/kubernetes/prometheus-operator/podmonitor");
    let pm = &documents(&pm[0])[0];
    assert_eq!(pm["kind"], "PodMonitor");
    let ds = &documents("deploy/kubernetes/exporter-daemonset.yaml")[0];
    assert_eq!(
        pm["spec"]["selector"]["matchLabels"],
        ds["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
            .as_str()
            .map(|n| serde_json::json!({ "app.kubernetes.io/name": n }))
            .expect("pod label")
    );
}

#[test]
fn manifests_pass_the_kubernetes_schema_validator() {
    let Some(validator) = find_tool("kubernetes-validate") else {
        assert!(
            !in_ci(),
            "kubernetes-validate is not installed, and CI=true (.ci/run installs it with pip)"
        );
        eprintln!("notice: kubernetes-validate is not installed; skipping (fails under CI=true)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files: Vec<PathBuf> = manifests_in("deploy/kubernetes")
        .into_iter()
        .chain(manifests_in("deploy/kubernetes/network-policy"))
        .map(|f| Path::new(REPO).join(f))
        .collect();
    // The ARC values file is not a manifest; its pod template is, so validate it as a Pod.
    let arc = yaml("deploy/helm/arc-runner-scale-set-values.yaml");
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "arc-runner", "namespace": "arc-runners" },
        "spec": arc["template"]["spec"],
    });
    let pod_file = dir.path().join("arc-runner-pod.json");
    std::fs::write(&pod_file, serde_json::to_vec(&pod).expect("json")).expect("write pod");
    files.push(pod_file);

    let out = Command::new(validator)
        .args(["--strict", "--quiet", "--no-warn"])
        .args(&files)
        .output()
        .expect("run kubernetes-validate");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "kubernetes-validate: {said}");
    assert!(!said.contains("ERROR"), "kubernetes-validate: {said}");
}

#[test]
fn kubernetes_manifests_parse_and_run_check() {
    let arc = yaml("deploy/helm/arc-runner-scale-set-values.yaml");
    let spec = &arc["template"]["spec"];
    let init = &spec["initContainers"][0];
    assert_eq!(init["name"], "runner-preflight", "{arc:#}");
    let args = container_args(init);
    assert_eq!(args[0], "check", "{args:?}");
    assert_documented_flags("arc-runner-scale-set-values.yaml", &args);
    assert!(init["image"]
        .as_str()
        .unwrap_or("")
        .contains("runner-preflight"));
    assert_eq!(
        spec["containers"][0]["name"], "runner",
        "ARC's runner container"
    );

    assert!(args
        .windows(2)
        .any(|a| a == ["--label", "node=$(NODE_NAME)"]));
    let ds = &documents("deploy/kubernetes/node-check-daemonset.yaml")[0];
    assert_eq!(ds["apiVersion"], "apps/v1");
    assert_eq!(ds["kind"], "DaemonSet");
    assert_eq!(
        ds["spec"]["selector"]["matchLabels"],
        ds["spec"]["template"]["metadata"]["labels"]
    );
    let pod = &ds["spec"]["template"]["spec"];
    let check = &pod["initContainers"][0];
    let args = container_args(check);
    assert_eq!(args[0], "check");
    assert_documented_flags("node-check-daemonset.yaml", &args);
    let fmt = args.iter().position(|a| a == "--format").expect("--format");
    assert_eq!(args[fmt + 1], "json", "JSON reports to the logs");
    // The node's name goes into the report's labels (the pod's host name is the pod's).
    assert!(args
        .windows(2)
        .any(|a| a == ["--label", "node=$(NODE_NAME)"]));
    let node_env = check["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "NODE_NAME")
        .expect("NODE_NAME");
    assert_eq!(
        node_env["valueFrom"]["fieldRef"]["fieldPath"],
        "spec.nodeName"
    );
    assert!(pod["containers"][0]["image"].as_str().is_some());
    for c in [init, check] {
        assert_eq!(c["securityContext"]["runAsNonRoot"], true, "{c:#}");
    }
    // The namespace enforces the "restricted" Pod Security Standard: every pod must meet it.
    for p in [spec, pod] {
        assert_eq!(
            p["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
            "{p:#}"
        );
    }
}
