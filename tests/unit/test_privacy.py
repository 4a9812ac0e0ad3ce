"""Privacy: exclude / local-only globs and redaction of secrets before text leaves the machine."""

from __future__ import annotations

import ast
import base64
import os

import pytest

from tierwise.privacy import Redaction, is_excluded, matches_any, redact

# Fake secrets, assembled from parts so that secret scanners do not flag this file. Each has the
# shape (prefix, length, alphabet) of the real thing.
ANTHROPIC = (
    "sk-ant-"
    + "api03-"
    + "Xq7Lm2Pz9Rt4Vw8Ky3Bn6Hd1Fg5Js0Ac"
    + "-"
    + "Ue4Wo7Ti2Yr9Nk3Mp8Qs6Lv1Zx5AA"
)
OPENAI = "sk-" + "proj-" + "Tg4Nw8Lq2Xz7Vb3Mk9Pd6Rs1Hc5Jf0Ye" + "_Wa2Ub7Kn4"
OPENAI_LEGACY = "sk-" + "T3BlbkFJ" + "q8Wm2Nx7Lp4Rz9Vk3Bs6Hd1Gf5Jt0Ac8Ye2Uo"
AWS_ID = "AKIA" + "Q7M2X9P4Z8R3V6K1"
AWS_SECRET = "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCY" + "k3Tq9Zp2Lw"
GITHUB = "ghp_" + "Rk8Vn2Lw7Qz4Xp9Mb3Ts6Hd1Jf5Gc0Ay8Ue2W"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"
SLACK = "xoxb-" + "2718281828-3141592653-" + "Qm7Xv2Lp9Zt4Rk8Wn3Bs6Hd"
GOOGLE = "AIza" + "SyB7q2Xm9Lp4Zt8Rk3Vn6Wd1Hc5Jf0Gy8Ue"
STRIPE = "sk_live_" + "51Hq7Xm2Lp9Zt4Rk8Vn3Wd6Hc1Jf5"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9"
    + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
GENERIC = "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk"  # 29 random-looking characters
HEX_SECRET = "9f2c4e7a1b8d3f6c0e5a2d9b4f7c1e8a"
PEM = "\n".join(
    [
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
        "-----END RSA PRIVATE KEY-----",
    ]
)


# -- exclude globs ---------------------------------------------------------------------------------

DEFAULTS = [".env", ".env.*", "*.pem", "*.key", "id_rsa*", "secrets/**", "**/secrets/**"]
ROOT = "/work/proj"


@pytest.mark.parametrize(
    ("path", "patterns", "root", "expected"),
    [
        # a pattern without "/" matches the file name at any depth
        ("/work/proj/.env", DEFAULTS, ROOT, ".env"),
        ("/work/proj/services/api/.env", DEFAULTS, ROOT, ".env"),
        ("/work/proj/app/.env.local", DEFAULTS, ROOT, ".env.*"),
        ("/work/proj/.envrc", DEFAULTS, ROOT, None),
        ("/work/proj/.env.py.bak/x", [".env"], ROOT, None),
        ("/work/proj/certs/server.pem", DEFAULTS, ROOT, "*.pem"),
        ("/work/proj/certs/server.pem.txt", DEFAULTS, ROOT, None),
        ("/home/me/.ssh/id_rsa.pub", DEFAULTS, None, "id_rsa*"),
        ("/work/proj/src/keys.py", DEFAULTS, ROOT, None),
        # ... and a directory name inside the root takes its contents along
        ("/work/proj/tls.key/readme.md", DEFAULTS, ROOT, "*.key"),
        ("/work/proj/build/out.js", ["build"], ROOT, "build"),
        # ... but never an ancestor of the root
        ("/home/build/proj/app.py", ["build"], "/home/build/proj", None),
        # a pattern with "/" is anchored at the root
        ("/work/proj/secrets/a/b.txt", ["secrets/**"], ROOT, "secrets/**"),
        ("/work/proj/proj/secrets/x", ["secrets/**"], ROOT, None),
        ("/work/proj/proj/secrets/x", ["**/secrets/**"], ROOT, "**/secrets/**"),
        ("/work/proj/secrets/x", ["**/secrets/**"], ROOT, "**/secrets/**"),
        ("/work/proj/secrets", ["secrets/**"], ROOT, None),
        ("/work/proj/src/db/schema.sql", ["src/*.sql"], ROOT, None),
        ("/work/proj/src/schema.sql", ["src/*.sql"], ROOT, "src/*.sql"),
        ("/work/proj/src/db/schema.sql", ["src/**/*.sql"], ROOT, "src/**/*.sql"),
        ("/work/proj/src/schema.sql", ["src/**/*.sql"], ROOT, "src/**/*.sql"),
        ("/work/proj/config/prod/app.yaml", ["config/prod"], ROOT, "config/prod"),
        ("/work/proj/app/config/prod/app.yaml", ["config/prod"], ROOT, None),
        # a leading "/" anchors at the root, and also works as an absolute path
        ("/work/proj/.env.sample", ["/.env.sample"], ROOT, "/.env.sample"),
        ("/work/proj/app/.env.sample", ["/.env.sample"], ROOT, None),
        ("/work/proj/vendor/x.py", ["/work/proj/vendor/**"], ROOT, "/work/proj/vendor/**"),
        # outside the root (or without one) the whole path is matched
        ("/srv/other/secrets/db.txt", ["secrets/**"], ROOT, None),
        ("/srv/other/secrets/db.txt", ["**/secrets/**"], ROOT, "**/secrets/**"),
        ("/srv/other/secrets/db.txt", ["/srv/**"], None, "/srv/**"),
        ("/work/project2/secrets/x", ["secrets/**"], ROOT, None),
        # a relative path is taken as relative to the root
        ("secrets/x.txt", ["secrets/**"], ROOT, "secrets/**"),
        ("app/secrets/x.txt", ["secrets/**", "**/secrets/**"], ROOT, "**/secrets/**"),
        ("./app/../secrets/x.txt", ["secrets/**"], ROOT, "secrets/**"),
        ("../elsewhere/secrets/x.txt", ["secrets/**"], ROOT, None),
        # a trailing "/" matches directories only
        ("/work/proj/private/notes.md", ["private/"], ROOT, "private/"),
        ("/work/proj/src/private", ["private/"], ROOT, None),
        # "?", "*" and character classes never cross "/"
        ("/work/proj/a/b.txt", ["a?b.txt"], ROOT, None),
        ("/work/proj/a/b.txt", ["a*b.txt"], ROOT, None),
        ("/work/proj/key1.json", ["key[0-9].json"], ROOT, "key[0-9].json"),
        ("/work/proj/keyA.json", ["key[!0-9].json"], ROOT, "key[!0-9].json"),
        ("/work/proj/key1.json", ["key[!0-9].json"], ROOT, None),
        ("/work/proj/a[b", ["a[b"], ROOT, "a[b"),
        # no negation, blank patterns are ignored
        ("/work/proj/.env", ["!.env"], ROOT, None),
        ("/work/proj/app.py", ["", "  "], ROOT, None),
    ],
)
def test_exclude_globs(
    path: str, patterns: list[str], root: str | None, expected: str | None
) -> None:
    assert is_excluded(path, patterns, root=root) == expected


def test_the_first_matching_pattern_is_reported() -> None:
    patterns = ["*.py", "**/secrets/**", "secrets/**"]
    assert is_excluded("/work/proj/secrets/token.txt", patterns, root=ROOT) == "**/secrets/**"
    assert is_excluded("/work/proj/secrets/token.py", patterns, root=ROOT) == "*.py"


@pytest.mark.skipif(os.name == "nt", reason="Windows paths are case-insensitive")
def test_globs_are_case_sensitive_on_posix() -> None:
    assert is_excluded("/work/proj/SERVER.PEM", ["*.pem"], root=ROOT) is None
    assert is_excluded("/work/proj/Secrets/x", ["secrets/**"], root=ROOT) is None


def test_root_with_trailing_slash_and_empty_path() -> None:
    assert is_excluded("/work/proj/secrets/x", ["secrets/**"], root="/work/proj/") == "secrets/**"
    assert is_excluded("", [".env", "**"], root=ROOT) is None


def test_matches_any_for_local_only() -> None:
    local_only = ["clients/acme/**", "*.ipynb"]
    assert matches_any("/work/proj/clients/acme/billing.py", local_only, ROOT)
    assert matches_any("/work/proj/notebooks/eda.ipynb", local_only, root=ROOT)
    assert not matches_any("/work/proj/clients/globex/billing.py", local_only, ROOT)
    assert not matches_any("/work/proj/clients/acme/billing.py", [], ROOT)


# -- redaction of each kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "secret", "kind"),
    [
        ('client = Anthropic(api_key="{s}")\n', ANTHROPIC, "anthropic-key"),
        ("openai.api_key = '{s}'  # rotate monthly\n", OPENAI, "openai-key"),
        ('OPENAI_API_KEY="{s}" python run.py\n', OPENAI_LEGACY, "openai-key"),
        ('{{"AccessKeyId": "{s}", "Region": "eu-west-1"}}', AWS_ID, "aws-access-key"),
        (
            "[default]\naws_secret_access_key = {s}\nregion = eu-west-1\n",
            AWS_SECRET,
            "aws-secret-key",
        ),
        ("git clone https://x-access-token:{s}@github.com/acme/app.git\n", GITHUB, "github-token"),
        ("  GH_PAT: {s}\n", GITHUB_PAT, "github-token"),
        ("const slack = new WebClient('{s}');\n", SLACK, "slack-token"),
        (
            '<script src="https://maps.googleapis.com/maps/api/js?key={s}"></script>',
            GOOGLE,
            "google-api-key",
        ),
        ('Stripe.api_key = "{s}"\n', STRIPE, "stripe-key"),
        ('resp = get(url, headers={{"X-Session": "{s}"}})\n', JWT, "jwt"),
        ("-H 'Authorization: Bearer {s}'\n", GENERIC, "auth-header"),
        (
            'engine = create_engine("postgresql://app:{s}@db.internal:5432/app")\n',
            "s3cr3t",
            "url-password",
        ),
        ('REDIS_URL = "redis://:{s}@cache:6379/0"\n', "hunter2", "url-password"),
        ('conn = "Server=db;Database=app;User Id=sa;Password={s};"\n', "Hunter2!", "conn-password"),
        ('dsn = "host=db user=app password={s} dbname=app"\n', "hunter2", "conn-password"),
        ("mysqldump --user=root --password={s} app > dump.sql\n", "hunter2", "conn-password"),
        ("jdbc:mysql://db:3306/app?user=app&pwd={s}&ssl=true", "hunter2", "conn-password"),
        ("https://api.example.com/v1/items?access_token={s}&page=2", GENERIC, "url-token"),
        ('SECRET_KEY = "{s}"\n', GENERIC, "secret-assignment"),
        ("export const API_KEY: string = '{s}';\n", GENERIC, "secret-assignment"),
        ('settings = {{"client_secret": "{s}", "timeout": 30}}\n', HEX_SECRET, "secret-assignment"),
        ("database:\n  password: {s}\n  host: db\n", GENERIC, "secret-assignment"),
        ("export DB_PASSWORD={s}\n", GENERIC, "secret-assignment"),
        ("  apiToken := `{s}`\n", GENERIC, "secret-assignment"),
        ("'signingKey' => '{s}',\n", GENERIC, "secret-assignment"),
        ('self.refresh_token = b"{s}"\n', GENERIC, "secret-assignment"),
    ],
)
def test_each_kind_is_redacted_and_nothing_else_changes(
    snippet: str, secret: str, kind: str
) -> None:
    text = snippet.format(s=secret)
    result = redact(text)
    assert secret not in result.text
    assert result.text == snippet.format(s=f"<redacted:{kind}>")
    assert (result.count, result.kinds) == (1, (kind,))


def test_basic_auth_is_redacted_only_when_it_decodes_to_credentials() -> None:
    credentials = base64.b64encode(b"deploy:" + HEX_SECRET.encode()).decode()
    result = redact(f"Authorization: Basic {credentials}\n")
    assert result.text == "Authorization: Basic <redacted:auth-header>\n"
    prose = "See the Basic InstallationInstructions page.\n"
    assert redact(prose) == Redaction(prose, 0, ())


def test_url_password_with_an_unencoded_at_sign_is_redacted_whole() -> None:
    result = redact("amqp://guest:p@ss@rabbit:5672/")
    assert result.text == "amqp://guest:<redacted:url-password>@rabbit:5672/"


def test_private_key_block_is_redacted_whole_across_lines() -> None:
    code = f'KEY = """\n{PEM}\n"""\nprint("loaded")\n'
    result = redact(code)
    assert result.text == 'KEY = """\n<redacted:private-key>\n"""\nprint("loaded")\n'
    assert (result.count, result.kinds) == (1, ("private-key",))


def test_private_key_in_an_escaped_json_string() -> None:
    escaped = PEM.replace("\n", "\\n") + "\\n"
    doc = f'{{"type": "service_account", "private_key": "{escaped}", "client_id": "42"}}'
    result = redact(doc)
    expected = (
        '{"type": "service_account", "private_key": "<redacted:private-key>\\n", "client_id": "42"}'
    )
    assert result.text == expected


def test_truncated_private_key_is_redacted_up_to_the_code_after_it() -> None:
    # Context trimmed to a token budget can cut a block before its END line.
    body = PEM.split("\n")[:3]
    text = "\n".join(body) + "\n\ndef load():\n    return 1\n"
    result = redact(text)
    assert result.text == "<redacted:private-key>\n\ndef load():\n    return 1\n"


def test_public_keys_and_certificates_are_not_secrets() -> None:
    text = (
        PEM.replace("RSA PRIVATE KEY", "PUBLIC KEY")
        + "\n"
        + PEM.replace("RSA PRIVATE KEY", "CERTIFICATE")
    )
    assert redact(text).count == 0


def test_several_secrets_report_sorted_unique_kinds() -> None:
    text = (
        f'GH_A = "{GITHUB}"\nDATABASE_URL = "postgres://u:hunter2@db/app"\nGH_B = "{GITHUB_PAT}"\n'
    )
    result = redact(text)
    assert result.count == 3
    assert result.kinds == ("github-token", "url-password")


def test_overlapping_detections_count_once_with_the_specific_kind() -> None:
    # The name is secret-like and the value is a known token: one secret, named by the token.
    result = redact(f'OPENAI_API_KEY = "{OPENAI}"\n')
    assert (result.text, result.count, result.kinds) == (
        'OPENAI_API_KEY = "<redacted:openai-key>"\n',
        1,
        ("openai-key",),
    )


def test_redacting_twice_changes_nothing_more() -> None:
    once = redact(f'TOKEN = "{GENERIC}"\nurl = "https://a:pw@h/"\nconn = "Password=hunter2;"\n')
    assert once.count == 3
    assert redact(once.text) == Redaction(once.text, 0, ())


# -- decoys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'TOKEN_TYPE = "bearer"\n',
        'SECRET_NAME = "db-password-name"\n',
        'COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"\n',  # the name is not secret-like
        'API_KEY = "abc123"\n',  # too short
        'TOKEN = "Zx9Qw8Er7Ty6Ui5"\n',  # random-looking, but one character short of 16
        'API_SECRET = "abcABC123abcABC123abc"\n',  # long and mixed, but low entropy
        "API_KEY = os.environ['API_KEY']\n",
        "api_key = settings.OPENAI_API_KEY\n",
        "token_endpoint_auth: TokenEndpointAuth\n",  # a Python annotation
        "SessionToken: TypeAlias = OAuth2BearerToken\n",
        'TOKENIZER_PATH = "models/tokenizer-v2.json"\n',
        'PASSWORD_RESET_URL = "https://example.com/reset/Zx9Qw8Er7Ty6"\n',
        "max_tokens = 4096\n",
        'tasks = ["task-list-for-the-whole-team", "ask-question-about-setup"]\n',
        '<div class="sk-loading-spinner-container-wrapper"></div>\n',
        "xoxo-hugs-and-kisses-from-everyone\n",
        'url = f"postgres://{user}:{password}@{host}/db"\n',
        'DATABASE_URL = "postgres://app:${DB_PASSWORD}@db/app"\n',
        'dsn = "mysql://app:%(password)s@db/app" % params\n',
        "login(user, password=password)\n",
        "connect(\n    user=user,\n    password=password,\n)\n",
        'connect(host="db", password=pw, name="app")\n',
        'if token == "not-a-real-token-value":\n    pass\n',
        "See https://example.com:8080/path?page=2 for the docs\n",
        'KEY = "user:{id}:profile:Zx9Qw8Er7Ty6Ui5"\n',
        'SECRET = "<redacted:secret-assignment>"\n',
        "API_KEY = '********************'\n",
    ],
)
def test_decoys_are_left_alone(text: str) -> None:
    assert redact(text) == Redaction(text, 0, ())


def test_empty_text() -> None:
    assert redact("") == Redaction("", 0, ())


# -- code stays parseable --------------------------------------------------------------------------

MODULE = f'''"""Settings for the billing service."""
import os

ANTHROPIC_KEY = "{ANTHROPIC}"
AWS = {{"id": "{AWS_ID}", "aws_secret_access_key": "{AWS_SECRET}"}}
WEBHOOK_SECRET: str = "{GENERIC}"
DATABASE_URL = "postgresql://billing:s3cr3t-pw@db:5432/billing"
ODBC = "Driver=x;Server=db;Uid=sa;Pwd=Hunter2;"
SESSION = r'{JWT}'
PRIVATE_KEY = """{PEM}"""
COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"


def headers(token: str = "{GITHUB}") -> dict[str, str]:
    # Slack fallback: {SLACK}
    return {{"Authorization": f"Bearer {{token}}", "X-Api-Key": os.environ["X_API_KEY"]}}
'''


def test_redacted_python_still_parses_and_keeps_its_structure() -> None:
    original = ast.parse(MODULE)
    result = redact(MODULE)
    redacted = ast.parse(result.text)
    assert result.kinds == (
        "anthropic-key",
        "aws-access-key",
        "aws-secret-key",
        "conn-password",
        "github-token",
        "jwt",
        "private-key",
        "secret-assignment",
        "slack-token",
        "url-password",
    )
    assert result.count == 10

    def constants(tree: ast.Module) -> dict[str, object]:
        return {
            target.id: ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets)
            if isinstance(target, ast.Name) and node.value is not None
        }

    before, after = constants(original), constants(redacted)
    assert before.keys() == after.keys()
    assert after["ANTHROPIC_KEY"] == "<redacted:anthropic-key>"
    assert after["AWS"] == {
        "id": "<redacted:aws-access-key>",
        "aws_secret_access_key": "<redacted:aws-secret-key>",
    }
    assert after["WEBHOOK_SECRET"] == "<redacted:secret-assignment>"
    assert after["DATABASE_URL"] == "postgresql://billing:<redacted:url-password>@db:5432/billing"
    assert after["ODBC"] == "Driver=x;Server=db;Uid=sa;Pwd=<redacted:conn-password>;"
    assert after["SESSION"] == "<redacted:jwt>"
    assert after["PRIVATE_KEY"] == "<redacted:private-key>"
    assert after["COMMIT"] == before["COMMIT"]
    function = redacted.body[-1]
    assert isinstance(function, ast.FunctionDef)
    assert ast.literal_eval(function.args.defaults[0]) == "<redacted:github-token>"
    assert "# Slack fallback: <redacted:slack-token>" in result.text


def test_a_long_file_keeps_every_line_without_a_secret() -> None:
    lines = [f"    total_{i} = compute(values[{i}], factor={i % 7})" for i in range(300)]
    secret_lines = {
        17: f'    token = "{GITHUB}"',
        150: f"    key = '{GOOGLE}'",
        299: "    # AWS " + AWS_ID,
    }
    for number, line in secret_lines.items():
        lines[number] = line
    result = redact("\n".join(lines))
    out = result.text.split("\n")
    assert len(out) == 300
    assert result.count == 3
    assert [i for i in range(300) if out[i] != lines[i]] == sorted(secret_lines)
    assert out[150] == "    key = '<redacted:google-api-key>'"


# -- adversarial input ----------------------------------------------------------------------------
# Every pattern is linear by construction (see the module docstring): a quadratic or exponential
# one would make these take minutes instead of milliseconds. There is no timing assertion, but a
# regression shows up as a hung test run.

LONG = 100_000


@pytest.mark.parametrize(
    "text",
    [
        "a" * LONG,
        "sk-" + "a" * LONG,
        "eyJ" * (LONG // 3),
        "a://" * (LONG // 4),
        "x://u:" + "p" * LONG,
        "ghp_" * (LONG // 4),
        "AKIA" * (LONG // 4),
        "x = '" + "a=" * (LONG // 2),
        "a: " * (LONG // 3),
        "k=v #" * (LONG // 5),
        ";password=" * (LONG // 10),
        "Bearer " * (LONG // 7),
        " " * LONG + "\n",
        "key_" * (LONG // 4) + "=x",
        "-" * LONG,
        'Client("' * (LONG // 8),  # a call and an opening quote, over and over
        'f(a, "' + 'b", "' * (LONG // 5),
        "\\n" * (LONG // 2) + "X=1",
        "\\nAPI_TOKEN=" * (LONG // 12),
        "u:" * (LONG // 2) + "@tcp(",  # a bare value rescanned at every start was quadratic
        "u=" * (LONG // 2) + "(",
        "AccountKey=;" * (LONG // 12),
        "_auth= " * (LONG // 7),
        "https://hooks.slack.com/services/" * (LONG // 33),
        "0" * LONG + "-us1",
    ],
)
def test_long_adversarial_lines_finish_and_are_not_secrets(text: str) -> None:
    assert redact(text) == Redaction(text, 0, ())


def test_long_adversarial_lines_with_secrets_are_redacted() -> None:
    long_key = "sk-" + "Ab1" * (LONG // 3)
    assert redact(long_key).text == "<redacted:openai-key>"
    blocks = "-----BEGIN RSA PRIVATE KEY-----\n" * 3000
    assert redact(blocks).text.count("<redacted:private-key>") == 3000
    unterminated = "-----BEGIN RSA PRIVATE KEY-----" + "A" * LONG
    assert redact(unterminated).text == "<redacted:private-key>"


@pytest.mark.parametrize("prefix", ["AKIA", "ASIA"])
def test_aws_access_key_ids_are_redacted_wherever_they_appear(prefix: str) -> None:
    # ASIA ids come with temporary (STS) credentials and are as sensitive as AKIA ones; in a
    # comment or a log line no name says what they are, only their format does.
    key = prefix + "Q3EGT5KZ7WXD4MRN"
    text = f"# rotated {key} on 2026-11-30 after the leak\nlog.info('using %s', '{key}')\n"
    result = redact(text)
    assert key not in result.text
    assert result.text.count("<redacted:aws-access-key>") == 2
