"""Words for generated records: realistic, unicode, sometimes long, sometimes hostile."""

# (user name, display name, accounts owned, active)
TEAM = [
    ("akowalski", "Anna Kowalski", ["Acme Telco"], True),
    ("bnakamura", "Ben Nakamura", ["Globex Mobile", "Initech Networks"], True),
    ("cdiaz", "Carmen Díaz", ["Telefónica Demo"], True),
    ("dokafor", "David Okafor", [], True),
    ("eschmidt", "Eva Schmidt", [], True),
    ("fli", "Fang Li", ["北京移动 Demo"], False),  # away: never assigned new cards
]
OTHER_USERS = [
    ("gpatel", "Gita Patel"), ("hmuller", "Hans Müller"), ("irossi", "Irene Rossi"),
    ("jkim", "Jun Kim"), ("kdubois", "Karim Dubois"),
]  # fmt: skip
ENGINEERS = ["gpatel", "hmuller", "irossi", "jkim", "kdubois", "lwang", "mnovak"]
SUPPORT_OWNERS = ["Priya Raman", "Tomás Ortega", "Olga Ivanova", "Sam O'Brien", "Yuki Sato", "Lena Berg"]
SSO_USERS = ["rhn-support-praman", "rhn-support-tortega", "rhn-support-oivanova", "rhn-support-sobrien"]
GROUPS = ["Telco RAN", "Telco Core", "5G Edge", "NFV Platform"]
PRODUCTS = [
    ("OpenShift Container Platform", "4.16"), ("OpenShift Container Platform", "4.17"),
    ("OpenShift Container Platform", "4.18"), ("OpenShift Container Platform", "4.19"),
    ("Red Hat Enterprise Linux", "9.4"), ("Red Hat OpenStack Platform", "17.1"),
    ("Red Hat Advanced Cluster Management for Kubernetes", "2.11"),
]  # fmt: skip

_BIG = ["Acme Telco", "Globex Mobile", "Initech Networks", "Telefónica Demo"]
BIG_ACCOUNTS = _BIG  # the accounts with most cases
_TAIL = [
    "Umbrella Wireless", "Soylent Communications", "Vandelay Telecom", "Stark Mobile", "Wayne Fiber",
    "Cyberdyne Cellular", "Tyrell Networks", "Oceanic Broadband", "Hooli Connect", "Massive Dynamic Mobile",
    "Société Télécom d'Essai", "北京移动 Demo", "Ångström Nät AB", "Wonka Wireless", "Monarch Telco",
    "Duff Mobile", "Gringotts Fiber", "Nakatomi Tsushin", "Pied Piper Networks", "Prestige Worldwide Telecom",
    "Bluth Cellular", "Kramerica Mobile", "Sirius Cybernetics", "Aperture Telecom", "Black Mesa Networks",
    "Virtucon Mobile", "Dunder Telecom", "Los Pollos Networks", "Gekko & Co Telecom", "Oscorp Wireless",
]  # fmt: skip


def accounts(rng) -> list[tuple[str, str, float]]:
    """(name, account number, weight): a few large customers and a long tail."""
    out = [(name, f"{1_400_000 + i}", 12.0 - i * 2) for i, name in enumerate(_BIG)]
    out += [(name, f"{1_500_000 + i}", 1.0) for i, name in enumerate(_TAIL)]
    return out


_SUBJECTS = [
    "Pods in CrashLoopBackOff after upgrade", "PTP grandmaster loses lock", "SR-IOV VF not attached to pod",
    "DU node reboots under load", "etcd leader elections every few minutes", "Kernel panic on worker node",
    "Performance profile not applied", "Ingress returns 503 intermittently", "OVN-Kubernetes drops packets",
    "Cluster upgrade stuck at 87%", "Bare-metal host fails inspection", "High latency on realtime kernel",
    "Image pull back-off from mirror registry", "Node NotReady after network change", "MetalLB stops announcing",
]  # fmt: skip
_PLACES = ["on the RAN cluster", "in production", "at the edge site", "after 4.18 upgrade", "in lab", "on SNO"]

HOSTILE = [
    "<script>alert('xss')</script>",
    '<a href="javascript:alert(document.cookie)">click for logs</a>',
    '<img src=x onerror="alert(1)">',
    "[logs|javascript:alert(1)]",
    '"><svg onload=alert(1)>',
]
_SENTENCES = [
    "Customer reports the issue started after the maintenance window.",
    "Must-gather attached to the case.",
    "We see the same behaviour on two of the three clusters.",
    "Workaround: cordon the node and restart the pod.",
    "Engineering asked for a sosreport from the affected node.",
    "Le client signale une dégradation du service depuis lundi.",
    "お客様は再起動後に問題が解消したと報告しています。",
    "Logs show {code}kubelet: PLEG is not healthy{code} every few seconds.",
    "See *bold* and _emphasis_ in JIRA markup, and a link [KB|https://access.redhat.com/solutions/1234].",
    "Escalation requested by the TAM 🚨.",
    "Waiting for the customer to confirm the fix in their staging environment.",
    # JIRA wiki markup as engineers write it (each starts a line of its own): headings, lists, code, links.
    "\nh3. Findings\n* etcd fsync above 100 ms on two masters\n* leader elected 4 times an hour\n"
    "# collect a must-gather\n# check the disks with {{fio}}",
    "\n{noformat}\nE1128 10:15:02.114 kubelet.go:2412] PLEG is not healthy: last seen active 3m ago\n{noformat}",
    "Fixed upstream, see [OCPBUGS-1234|https://issues.redhat.com/browse/OCPBUGS-1234]; backport *pending* for 4.16.",
]  # fmt: skip


def summary(rng) -> str:
    s = f"{rng.choice(_SUBJECTS)} {rng.choice(_PLACES)}"
    return s + (" " + rng.choice(HOSTILE) if rng.random() < 0.01 else "")


def description(rng) -> str:
    parts = rng.choices(_SENTENCES, k=rng.randint(2, 6))
    if rng.random() < 0.02:
        parts.append(rng.choice(HOSTILE))
    text = " ".join(parts)
    if rng.random() < 0.03:  # the occasional pasted log
        text += "\n\n{noformat}\n" + "Nov 28 10:15:02 worker-3 kubelet[2211]: E1128 probe failed\n" * 120 + "{noformat}"
    return text


def comment(rng) -> str:
    if rng.random() < 0.03:
        return rng.choice(HOSTILE) + " " + rng.choice(_SENTENCES)
    return " ".join(rng.choices(_SENTENCES, k=rng.randint(1, 3)))


def bug_summary(rng) -> str:
    return f"[{rng.choice(['ovn', 'ptp', 'sriov', 'kubelet', 'installer'])}] {rng.choice(_SUBJECTS)}"


def card_description(case) -> str:
    return (
        "This card was automatically created from the Case Dashboard Sync Job.\n\n"
        f"*Account:* {case.account}\n*Severity:* {case.severity}\n*Status:* {case.status}\n\n"
        f"*Description:*\n{case.description}"
    )
