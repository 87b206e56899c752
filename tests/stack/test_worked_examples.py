"""The worked examples of docs/configuration.md ("Worked examples: where the stacks go"), synthesized as `make synth`
and the CDK CLI would (cdk.json's context, then the example's; cdk-nag included): each prints the stacks the page shows,
the page's bootstrap and deploy lines name exactly those, and what each example promises holds in the templates."""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from certlib.resources import CERTIFICATE_NAME_TAG, MANAGED_BY_TAG, ResourceNames
from deploy.paths import REPO_ROOT
from sandbox.iam.evaluator import Decision, Request, evaluate
from stacks.nag import flatten_cfn_reference
from tests.docs.markdown import DOCS, Block, blocks_by_subsection, npx_cdk_commands
from tests.stack.conftest import EXAMPLE_ACCOUNTS

PAGE = DOCS / "configuration.md"
SECTION = "Worked examples: where the stacks go"
EXAMPLES = blocks_by_subsection(PAGE, SECTION)
NAMES = ResourceNames()
# Names an AWS account holds once, whatever the region: IAM's, and CloudWatch dashboards.
ACCOUNT_WIDE = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
}


@dataclass
class Example:
    title: str
    blocks: list[Block]
    printed: list[str]  # what the app printed, one line per stack (as `make synth`, with cdk.out)
    templates: dict[str, dict[str, Any]]  # by stack name
    environments: dict[str, tuple[str, str | None]]  # stack name -> (account, region)
    synth_error: str | None

    def cdk_lines(self, command: str) -> list[list[str]]:
        """The page's `npx cdk <command> ...` lines for this example."""
        lines = [argv for block in self.blocks if block.language == "sh" for argv in npx_cdk_commands(block.body)]
        return [argv for argv in lines if argv[2] == command]


# Options of the CDK CLI that take a value (the rest of a line's words are stacks or environments).
OPTIONS_WITH_VALUE = ("--profile", "--outputs-file", "-O", "--context", "-c", "--trust")


def positionals(argv: list[str]) -> list[str]:
    words, found = iter(argv[3:]), []
    for word in words:
        if word in OPTIONS_WITH_VALUE or word == "--cloudformation-execution-policies":
            next(words, None)
        elif not word.startswith("-"):
            found.append(word)
    return found


def context_of(blocks: list[Block]) -> dict[str, Any]:
    (context,) = [json.loads(b.body)["context"] for b in blocks if b.language == "json" and '"context"' in b.body]
    return dict(context)


TITLES = [title for title in EXAMPLES if title]
SEVERAL, CLOUDFRONT, DNS_ACCOUNT = (
    "Several accounts and regions",
    "CloudFront: certificates in us-east-1",
    "A DNS account",
)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory, layer_directory: Path) -> dict[str, Example]:
    return {
        title: synthesized_example(title, tmp_path_factory.mktemp("worked-example"), layer_directory)
        for title in TITLES
    }


def synthesized_example(title: str, folder: Path, layer_directory: Path) -> Example:
    """One example synthesized: with its accounts file when it shows one (else the example accounts file)."""
    from stacks.application import build_deployment

    blocks = EXAMPLES[title]
    accounts = EXAMPLE_ACCOUNTS
    for block in blocks:
        if block.language == "yaml" and "accounts" in (yaml.safe_load(block.body) or {}):
            accounts = folder / "acme-accounts.yaml"
            accounts.write_text(block.body)
    outdir = folder / "cdk.out"
    context = {**context_of(blocks), "accountsFile": str(accounts), "layerDirectory": str(layer_directory)}
    deployed = build_deployment(context, outdir=str(outdir))
    synth_error = None
    try:
        deployed.app.synth()
    except RuntimeError as exc:
        synth_error = str(exc)
    return Example(
        title=title,
        blocks=blocks,
        printed=[f"{stack.stack_name}: cdk.out/{stack.template_file}" for stack in deployed.stacks],
        templates={s.stack_name: json.loads((outdir / s.template_file).read_text()) for s in deployed.stacks},
        environments={s.stack_name: (s.account, s.region) for s in deployed.stacks},
        synth_error=synth_error,
    )


def test_the_page_has_the_three_examples() -> None:
    # Given / When / Then the section holds the examples the tests below synthesize (a renamed heading checks nothing)
    assert TITLES == [SEVERAL, CLOUDFRONT, DNS_ACCOUNT]


@pytest.mark.parametrize("title", TITLES)
def test_it_synthesizes_and_prints_the_stacks_the_page_shows(examples: dict[str, Example], title: str) -> None:
    example = examples[title]
    # Given the stacks the page says `make synth` prints for this example
    (shown,) = [b.body.splitlines() for b in example.blocks if b.language == "text"]

    # When / Then the example synthesizes (cdk-nag included) and prints exactly those
    assert example.synth_error is None, example.synth_error
    assert example.printed == shown


@pytest.mark.parametrize("title", TITLES)
def test_the_bootstrap_and_deploy_lines_name_exactly_its_stacks(examples: dict[str, Example], title: str) -> None:
    example = examples[title]
    # Given the page's `npx cdk bootstrap` and `npx cdk deploy` lines for this example
    bootstrapped = {target for argv in example.cdk_lines("bootstrap") for target in positionals(argv)}
    selectors = [selector for argv in example.cdk_lines("deploy") for selector in positionals(argv)]

    # When / Then every account and region a stack goes to is bootstrapped, and nothing else
    assert bootstrapped == {f"aws://{account}/{region}" for account, region in example.environments.values()}
    # and the deploy lines together select every stack, each once
    selected = [name for selector in selectors for name in example.templates if fnmatch.fnmatchcase(name, selector)]
    selected += [name for argv in example.cdk_lines("deploy") if "--all" in argv for name in example.templates]
    assert sorted(selected) == sorted(example.templates)


@pytest.mark.parametrize("title", TITLES)
def test_an_account_holds_each_account_wide_name_once(examples: dict[str, Example], title: str) -> None:
    example = examples[title]
    # Given the names that IAM and CloudWatch dashboards hold once per account, in every stack of each account
    seen: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for stack, template in example.templates.items():
        account, _ = example.environments[stack]
        for resource in template["Resources"].values():
            key = ACCOUNT_WIDE.get(resource["Type"])
            if key and key in resource["Properties"]:
                seen[(account, resource["Type"], flatten_cfn_reference(resource["Properties"][key]))].append(stack)

    # When / Then no two stacks of an account would create the same one (the second deploy would fail)
    assert seen
    assert {name: stacks for name, stacks in seen.items() if len(stacks) > 1} == {}


def test_several_regions_of_one_account_get_regional_account_wide_names(examples: dict[str, Example]) -> None:
    example = examples[SEVERAL]
    # Given / When the node policy and dashboard of each stack
    names = {}
    for stack, template in example.templates.items():
        resources = template["Resources"].values()
        (policy,) = [r["Properties"]["ManagedPolicyName"] for r in resources if r["Type"] == "AWS::IAM::ManagedPolicy"]
        (board,) = [r["Properties"]["DashboardName"] for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"]
        names[stack] = (policy, board)

    # Then the account in two regions has them per region, as the page says; the account in one keeps the plain ones
    assert names == {
        "AcmeCertificates-111122223333-eu-west-1": (
            f"{NAMES.certificate_nodes_policy}-eu-west-1",
            f"{NAMES.dashboard}-eu-west-1",
        ),
        "AcmeCertificates-111122223333-us-east-1": (
            f"{NAMES.certificate_nodes_policy}-us-east-1",
            f"{NAMES.dashboard}-us-east-1",
        ),
        "AcmeCertificates-222233334444-eu-west-1": (NAMES.certificate_nodes_policy, NAMES.dashboard),
    }
    page = PAGE.read_text()
    assert f"`{NAMES.certificate_nodes_policy}-<region>`" in page
    assert f"`{NAMES.dashboard}-<region>`" in page


def import_policy(template: dict[str, Any]) -> dict[str, Any]:
    """The import step's identity policy, with CloudFormation's references resolved as IAM would see them."""
    role = next(
        r["Properties"]["Role"]["Fn::GetAtt"][0]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"]["FunctionName"] == NAMES.function("import_certificate")
    )
    statements = [
        statement
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        statement["Resource"] = [flatten_cfn_reference(r).replace("<AWS::Partition>", "aws") for r in resources]
    return {"Version": "2012-10-17", "Statement": statements}


def test_a_stack_in_eu_west_1_imports_into_us_east_1_for_cloudfront(examples: dict[str, Example]) -> None:
    example = examples[CLOUDFRONT]
    # Given the one stack, in eu-west-1, and the request the page shows, in two regions with a key CloudFront takes
    ((stack, template),) = example.templates.items()
    (request,) = [json.loads(b.body) for b in example.blocks if b.language == "json" and '"context"' not in b.body]
    assert example.environments[stack] == ("111122223333", "eu-west-1")
    assert set(request["regions"]) == {"eu-west-1", "us-east-1"}
    assert request["key_type"] in ("ec256", "rsa2048", "rsa3072", "rsa4096")

    # When the import step asks to import a new certificate with the deployment's tags into each region
    tags = {f"aws:RequestTag/{MANAGED_BY_TAG[0]}": NAMES.prefix, f"aws:RequestTag/{CERTIFICATE_NAME_TAG}": "cdn"}
    context = {**tags, "aws:TagKeys": [MANAGED_BY_TAG[0], CERTIFICATE_NAME_TAG]}

    def decide(region: str, account: str = "111122223333") -> Decision:
        arn = f"arn:aws:acm:{region}:{account}:certificate/0d7e1c6e-6b1a-4c7e-9f0e-3a1f2b3c4d5e"
        return evaluate([import_policy(template)], Request("acm:ImportCertificate", arn, context))

    # Then IAM allows it in us-east-1 as in the stack's region, and in no other account
    assert decide("eu-west-1") is Decision.ALLOWED
    assert decide("us-east-1") is Decision.ALLOWED
    assert decide("us-east-1", account="999999999999") is Decision.IMPLICIT_DENY


def test_the_dns_example_deploys_the_role_its_accounts_file_names(examples: dict[str, Example]) -> None:
    example = examples[DNS_ACCOUNT]
    # Given the accounts file and the context of the example
    (accounts,) = [yaml.safe_load(b.body) for b in example.blocks if b.language == "yaml"]
    (dns_account,) = context_of(example.blocks)["dnsAccounts"]

    # When the DNS account's stack is read
    dns_template = example.templates[f"AcmeDnsAccess-{dns_account['account']}"]
    role_names = sorted(
        r["Properties"]["RoleName"] for r in dns_template["Resources"].values() if r["Type"] == "AWS::IAM::Role"
    )

    # Then it makes the role the accounts file names, requiring the external ID the file gives
    (zone,) = accounts["dns-zones"].values()
    assert zone["role-arn"] == f"arn:aws:iam::{dns_account['account']}:role/{role_names[0]}"
    assert role_names == ["acme-dns-01", "acme-dns-01-read"]
    assert zone["external-id"] == dns_account["externalId"]
    assert f'"sts:ExternalId": "{zone["external-id"]}"' in json.dumps(dns_template)
    assert example.environments[f"AcmeDnsAccess-{dns_account['account']}"] == (dns_account["account"], "us-east-1")


def test_the_page_links_the_example_from_the_readme() -> None:
    # Given / When / Then the README's deploy steps lead to these examples
    readme = (REPO_ROOT / "README.md").read_text()
    assert "docs/configuration.md#worked-examples-where-the-stacks-go" in readme
    assert "docs/configuration.md#a-dns-account" in readme
