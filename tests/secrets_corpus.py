"""A corpus of secrets in code and of look-alikes that are not secrets, for measuring redaction.

Every value is generated here from a seeded RNG in the real format of its kind (prefix, length,
alphabet), so the corpus is realistic without holding any real key, and nothing that a secret
scanner would flag is committed. `secrets()` are credentials that must never reach a cloud
model; `lookalikes()` are values that resemble them but are public or harmless (public and
publishable keys, ARNs, UUID idempotency keys under *key* names, hashes, placeholders...), which
redaction must leave alone or the model loses the code's meaning.

Each case is a small module whose one function holds the value, so it is the target (and its
text reaches the model) when an action runs on it. `bench/secrets.py` and
tests/e2e/test_secret_corpus.py send each one through the engine to the wire fake.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from dataclasses import dataclass
from typing import Any

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Case:
    """One module: `value` is the secret (or the look-alike) its function `target` holds."""

    kind: str
    language: str
    code: str
    value: str
    target: str  # the function name; the action runs on its definition line

    @property
    def path(self) -> str:
        """A file name for the module."""
        suffix = {"python": "py", "javascript": "js", "typescript": "ts", "go": "go"}
        return f"{self.target}.{suffix[self.language]}"

    @property
    def line(self) -> int:
        """The 0-based line of the target's definition."""
        marks = (f"def {self.target}(", f"function {self.target}(", f"func {self.target}(")
        lines = self.code.split("\n")
        return next(i for i, line in enumerate(lines) if any(m in line for m in marks))


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def of(self, alphabet: str, n: int) -> str:
        # A long value from a mixed-case alphabet has both cases, as the real kind does.
        while True:
            value = "".join(self.rng.choice(alphabet) for _ in range(n))
            if n < 8 or not _mixed(alphabet) or _mixed(value):
                return value

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def b64(self, n_bytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(n_bytes)).decode()


def _mixed(value: str) -> bool:
    return any(c.islower() for c in value) and any(c.isupper() for c in value)


def _py(name: str, body: str) -> str:
    lines = "\n".join(f"    {line}" if line else "" for line in body.strip("\n").split("\n"))
    return (
        f'"""Service wiring."""\nimport os\n\n\ndef {name}(client):\n{lines}\n    return client\n'
    )


def _js(name: str, body: str) -> str:
    lines = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return f"export function {name}(client) {{\n{lines}\n  return client;\n}}\n"


def _go(name: str, body: str) -> str:
    lines = "\n".join(f"\t{line}" if line else "" for line in body.strip("\n").split("\n"))
    return (
        f"package wiring\n\nfunc {name}(client *Client) *Client {{\n{lines}\n\treturn client\n}}\n"
    )


def secrets(seed: int = 20261201) -> list[Case]:
    """Credentials in code: every one must be redacted before a cloud model sees it."""
    g = _Gen(seed)
    cases: list[Case] = []

    def add(kind: str, body: str, value: str, language: str = "python") -> None:
        name = f"secret_{len(cases):02d}_{kind.replace('-', '_')}"
        make = {"python": _py, "javascript": _js, "typescript": _js, "go": _go}[language]
        cases.append(Case(kind, language, make(name, body), value, name))

    aws_id, asia = "AKIA" + g.of(UPPER_DIGITS, 16), "ASIA" + g.of(UPPER_DIGITS, 16)
    aws_secret = g.of(B64, 40)
    add("aws-access-key", f's = boto3.Session(aws_access_key_id="{aws_id}")', aws_id)
    add("aws-access-key", f'creds = {{"AccessKeyId": "{asia}", "Expiration": "2026-12-01"}}', asia)
    add(
        "aws-secret-key",
        f'client.secret = "{aws_secret}"\nos.environ["AWS_SECRET_ACCESS_KEY"] = client.secret',
        aws_secret,
    )
    s2 = g.of(B64, 40)
    add("aws-secret-key", f'aws_secret_access_key = "{s2}"', s2)
    s3 = g.of(B64, 40)
    add(
        "aws-secret-key",
        f'CREDENTIALS = "[default]\\naws_access_key_id = {g.of(UPPER_DIGITS, 4)}\\naws_secret_access_key = {s3}\\n"',
        s3,
    )
    asia2 = "ASIA" + g.of(UPPER_DIGITS, 16)
    add(
        "aws-access-key",
        f"const creds = {{ accessKeyId: '{asia2}', region: 'eu-west-1' }};",
        asia2,
        "javascript",
    )

    ant = "sk-ant-api03-" + g.of(URLSAFE, 93) + "AA"
    add("anthropic-key", f'client = anthropic.Anthropic(api_key="{ant}")', ant)
    ant2 = "sk-ant-admin01-" + g.of(URLSAFE, 90)
    add("anthropic-key", f'headers = {{"x-api-key": "{ant2}"}}', ant2)
    oai = "sk-proj-" + g.of(URLSAFE, 120)
    add("openai-key", f'openai.api_key = "{oai}"', oai)
    oai2 = "sk-svcacct-" + g.of(URLSAFE, 100)
    add("openai-key", f"const openai = new OpenAI({{ apiKey: '{oai2}' }});", oai2, "typescript")
    goog = "AIza" + g.of(URLSAFE, 35)
    add("google-api-key", f'genai.configure(api_key="{goog}")', goog)
    hf = "hf_" + g.of(ALNUM, 34)
    add("provider-api-key", f'api = HfApi(token="{hf}")', hf)
    co = g.of(ALNUM, 40)
    add("provider-api-key", f'co = cohere.Client("{co}")', co)  # positional, no prefix
    groq = "gsk_" + g.of(ALNUM, 52)
    add("provider-api-key", f'llm = Groq(api_key="{groq}")', groq)

    ghp = "ghp_" + g.of(ALNUM, 36)
    add(
        "github-token",
        f'repo = git.Repo.clone_from("https://x-access-token:{ghp}@github.com/acme/app.git", "app")',
        ghp,
    )
    pat = "github_pat_" + g.of(ALNUM, 22) + "_" + g.of(ALNUM, 59)
    add("github-token", f'os.environ.setdefault("GH_TOKEN", "{pat}")', pat)
    gho = "gho_" + g.of(ALNUM, 36)
    add("github-token", f'session.headers["Authorization"] = "token {gho}"', gho)
    glpat = "glpat-" + g.of(URLSAFE, 20)
    add("gitlab-token", f'gl = gitlab.Gitlab("https://gitlab.com", private_token="{glpat}")', glpat)
    glpat2 = "glpat-" + g.of(URLSAFE, 20)
    add(
        "gitlab-token",
        f'run(["git", "push", "https://oauth2:{glpat2}@gitlab.com/acme/app.git"])',
        glpat2,
    )
    circle = g.of(HEX, 40)
    add("ci-token", f'CIRCLE_TOKEN = "{circle}"', circle)
    jenkins = "11" + g.of(HEX, 32)
    add(
        "ci-token",
        f'jenkins = Jenkins("https://ci.acme.dev", username="deploy", password="{jenkins}")',
        jenkins,
    )

    def jwt() -> str:
        head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
        body = base64.urlsafe_b64encode(
            f'{{"sub":"{g.uuid()}","iat":1733011200}}'.encode()
        ).decode()
        return f"{head}.{body.rstrip('=')}.{g.of(URLSAFE, 43)}"

    j1, j2 = jwt(), jwt()
    add("jwt", f'resp = http.get(url, headers={{"Authorization": "Bearer {j1}"}})', j1)
    add("jwt", f'client.cookies.set("session", "{j2}")', j2)

    rsa_body = "\\n".join(g.b64(48) for _ in range(8))
    rsa = f"-----BEGIN RSA PRIVATE KEY-----\\n{rsa_body}\\n-----END RSA PRIVATE KEY-----"
    add("private-key", f'key = load_pem_private_key("{rsa}".encode(), None)', rsa)
    ossh_lines = "\n".join(g.b64(51) for _ in range(6))
    ossh = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{ossh_lines}\n-----END OPENSSH PRIVATE KEY-----"
    # The block sits in the function body: its lines are indented there.
    add("private-key", f'DEPLOY_KEY = """\n{ossh}\n"""', ossh.replace("\n", "\n    "))
    ec = "-----BEGIN EC PRIVATE KEY-----\\n" + g.b64(90) + "\\n-----END EC PRIVATE KEY-----"
    add("private-key", f'config = json.loads(\'{{"private_key": "{ec}"}}\')', ec)

    human = ["Tr0ub4dor&3", "Summer2024!", "hunter22", "Winter2023!", "P@ssw0rd123", "letmein42"]
    pw = iter(human * 3)
    p = next(pw)
    add("url-password", f'engine = create_engine("postgresql://app:{p}@db.internal:5432/app")', p)
    p = g.of(ALNUM, 16)
    add(
        "url-password",
        f'mongo = MongoClient("mongodb+srv://admin:{p}@cluster0.ab1cd.mongodb.net/")',
        p,
    )
    p = next(pw)
    add("url-password", f'cache = redis.from_url("redis://:{p}@cache:6379/0")', p)
    p = next(pw)
    add("url-password", f'broker_url = "amqp://worker:{p}@rabbit:5672//"', p)
    p = g.of(ALNUM, 20)
    add(
        "url-password", f'pip_index = "https://deploy:{p}@nexus.acme.dev/repository/pypi/simple"', p
    )
    p = "p%40ss" + g.of(ALNUM, 10)
    add("url-password", f'db, _ := sql.Open("mysql", "root:{p}@tcp(db:3306)/app")\n_ = db', p, "go")

    s = g.of(ALNUM, 32)
    add("dotenv", f'ENV = "DEBUG=1\\nSESSION_SECRET={s}\\nPORT=8080\\n"', s)
    p = next(pw)
    add("dotenv", f'DOTENV = """\nAPP_PORT=8080\nDATABASE_PASSWORD={p}\nLOG_LEVEL=info\n"""', p)
    t = g.of(ALNUM, 40)
    add("dotenv", f'Path(".env").write_text("API_TOKEN={t}\\n")', t)
    s = g.of(URLSAFE, 43)
    add("dotenv", f'load_dotenv(stream=io.StringIO("export JWT_SECRET={s}\\n"))', s)

    dj = "django-insecure-" + g.of(ALNUM + "!@#%^&*(-_=+)", 50)
    add("secret-assignment", f'SECRET_KEY = "{dj}"', dj)
    wh = "whsec_" + g.of(ALNUM, 32)
    add("secret-assignment", f'webhook_secret = "{wh}"', wh)
    enc = g.b64(32)
    add("secret-assignment", f'ENCRYPTION_KEY = "{enc}"', enc)
    sig = g.of(HEX, 64)
    add("secret-assignment", f'settings = {{"signing_key": "{sig}", "ttl": 3600}}', sig)
    gcs = "GOCSPX-" + g.of(URLSAFE, 28)
    add(
        "secret-assignment",
        f'flow = Flow.from_client_config({{"web": {{"client_secret": "{gcs}"}}}})',
        gcs,
    )
    az = g.of(ALNUM, 3) + "8Q~" + g.of(ALNUM + "~._-", 34)
    add("secret-assignment", f'AZURE_CLIENT_SECRET = "{az}"', az)
    tok = g.of(ALNUM, 48)
    add("secret-assignment", f'const REFRESH_TOKEN = "{tok}";', tok, "javascript")

    for p in ("hunter2", next(pw), next(pw)):
        add("password", f'password = "{p}"', p)
    p = next(pw)
    add("password", f'self.db_password = "{p}"', p)
    p = next(pw)
    add("password", f'config = {{"user": "admin", "password": "{p}"}}', p)
    p = next(pw)
    add("password", f'smtp.login("alerts@acme.dev", "{p}")', p)
    p = next(pw)
    add("password", f'db := Connect(Options{{User: "app", Password: "{p}"}})\n_ = db', p, "go")

    slack = f"https://hooks.slack.com/services/T{g.of(UPPER_DIGITS, 8)}/B{g.of(UPPER_DIGITS, 10)}/{g.of(ALNUM, 24)}"
    add("chat-webhook", f'requests.post("{slack}", json={{"text": "deployed"}})', slack)
    disc = f"https://discord.com/api/webhooks/{g.of(string.digits, 18)}/{g.of(URLSAFE, 68)}"
    add("chat-webhook", f'DISCORD_HOOK = "{disc}"', disc)
    teams = f"https://acme.webhook.office.com/webhookb2/{g.uuid()}@{g.uuid()}/IncomingWebhook/{g.of(HEX, 32)}/{g.uuid()}"
    add("chat-webhook", f'notify(url="{teams}")', teams)
    xoxb = f"xoxb-{g.of(string.digits, 12)}-{g.of(string.digits, 13)}-{g.of(ALNUM, 24)}"
    add("slack-token", f'bot = WebClient(token="{xoxb}")', xoxb)

    sg = f"SG.{g.of(URLSAFE, 22)}.{g.of(URLSAFE, 43)}"
    add("email-sms-key", f'mailer = SendGridAPIClient("{sg}")', sg)
    mg = "key-" + g.of(HEX, 32)
    add("email-sms-key", f'requests.post(url, auth=("api", "{mg}"), data=message)', mg)
    twilio_token = g.of(HEX, 32)
    add("email-sms-key", f'twilio = Client("AC{g.of(HEX, 32)}", "{twilio_token}")', twilio_token)
    mc = g.of(HEX, 32) + "-us6"
    add("email-sms-key", f'mailchimp.set_config({{"api_key": "{mc}", "server": "us6"}})', mc)
    pm = g.uuid()
    add("email-sms-key", f'POSTMARK_SERVER_TOKEN = "{pm}"', pm)
    vonage = g.of(ALNUM, 16)
    add("email-sms-key", f'sms = Vonage(Auth(api_key="a1b2c3d4", api_secret="{vonage}"))', vonage)

    npm = "npm_" + g.of(ALNUM, 36)
    add("registry-token", f'NPMRC = "//registry.npmjs.org/:_authToken={npm}\\n"', npm)
    npm_auth = base64.b64encode(f"ci:{g.of(ALNUM, 18)}".encode()).decode()
    add(
        "registry-token",
        f'Path(".npmrc").write_text("_auth={npm_auth}\\nalways-auth=true\\n")',
        npm_auth,
    )
    pypi = "pypi-AgEIcHlwaS5vcmc" + g.of(URLSAFE, 60)
    add(
        "registry-token",
        f'run(["twine", "upload", "-u", "__token__", "-p", "{pypi}", "dist/*"])',
        pypi,
    )
    dckr = "dckr_pat_" + g.of(URLSAFE, 27)
    add("registry-token", f'run(["docker", "login", "-u", "acme", "-p", "{dckr}"])', dckr)
    gem = "rubygems_" + g.of(HEX, 48)
    add("registry-token", f'CREDENTIALS = "---\\n:rubygems_api_key: {gem}\\n"', gem)

    account = g.b64(64)
    add(
        "connection-string",
        f'blob = BlobServiceClient.from_connection_string("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={account};EndpointSuffix=core.windows.net")',
        account,
    )
    sas = g.b64(32)
    add(
        "connection-string",
        f'bus = ServiceBusClient.from_connection_string("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sas}")',
        sas,
    )
    hub = g.b64(32)
    add(
        "connection-string",
        f'HUB = "Endpoint=sb://acme-events.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={hub};EntityPath=orders"',
        hub,
    )
    sig = g.b64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    add(
        "connection-string",
        f'url = "https://acme.blob.core.windows.net/c/f.csv?sv=2022-11-02&sp=r&se=2026-12-31&sig={sig}"',
        sig,
    )

    alg = g.of(HEX, 32)
    add("positional-key", f'search = SearchClient("QW3RTY1234", "{alg}")', alg)
    pd = g.of(URLSAFE, 20)
    add("positional-key", f'pager = PagerDutyClient("{pd}")', pd)
    meili = g.of(ALNUM, 32)
    add("positional-key", f'index = meilisearch.Client("http://127.0.0.1:7700", "{meili}")', meili)
    dd = g.of(HEX, 32)
    add("positional-key", f"const api = new ApiClient('{dd}');", dd, "javascript")

    bearer = g.of(URLSAFE, 40)
    add("auth-header", f'headers = {{"Authorization": "Bearer {bearer}"}}', bearer)
    basic = base64.b64encode(f"deploy:{next(pw)}".encode()).decode()
    add("auth-header", f'req.add_header("Authorization", "Basic {basic}")', basic)
    return cases


def lookalikes(seed: int = 20261202) -> list[Case]:
    """Values that look like secrets and are not: redaction must leave every one alone."""
    g = _Gen(seed)
    cases: list[Case] = []

    def add(kind: str, body: str, value: str, language: str = "python") -> None:
        name = f"plain_{len(cases):02d}_{kind.replace('-', '_')}"
        make = {"python": _py, "javascript": _js, "typescript": _js, "go": _go}[language]
        cases.append(Case(kind, language, make(name, body), value, name))

    pub_body = "\\n".join(g.b64(48) for _ in range(5))
    pub = f"-----BEGIN PUBLIC KEY-----\\n{pub_body}\\n-----END PUBLIC KEY-----"
    add("public-key", f'verifier = load_pem_public_key("{pub}".encode())', pub)
    ed = "AAAAC3NzaC1lZDI1NTE5AAAAI" + g.of(B64, 43)
    add("public-key", f'AUTHORIZED = "ssh-ed25519 {ed} deploy@ci"', ed)
    ecpub = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + g.of(B64, 86)
    add("public-key", f'PUBLIC_KEY = "{ecpub}"', ecpub)
    jwks = g.of(URLSAFE, 86)
    add("public-key", f'jwk = {{"kty": "RSA", "e": "AQAB", "n": "{jwks}", "use": "sig"}}', jwks)
    cert_body = "\\n".join(g.b64(48) for _ in range(5))
    cert = f"-----BEGIN CERTIFICATE-----\\n{cert_body}\\n-----END CERTIFICATE-----"
    add("public-key", f'ca = x509.load_pem_x509_certificate("{cert}".encode())', cert)
    public_key_b64 = g.b64(32)
    add(
        "public-key",
        f'settings = {{"public_key": "{public_key_b64}", "curve": "x25519"}}',
        public_key_b64,
    )

    pk = "pk_live_" + g.of(ALNUM, 99)
    add("publishable-key", f'STRIPE_PUBLISHABLE_KEY = "{pk}"', pk)
    pkt = "pk_test_" + g.of(ALNUM, 99)
    add("publishable-key", f"const stripe = Stripe('{pkt}');", pkt, "javascript")
    pkjs = "pk_live_" + g.of(ALNUM, 24)
    add(
        "publishable-key",
        f"const elements = loadStripe(process.env.KEY ?? '{pkjs}');",
        pkjs,
        "typescript",
    )
    algolia_search = g.of(HEX, 32)
    add("publishable-key", f'SEARCH_ONLY_API_KEY_PUBLIC = "{algolia_search}"', algolia_search)

    account = g.of(string.digits, 12)
    arns = [
        ("KMS_KEY", f"arn:aws:kms:eu-west-1:{account}:key/{g.uuid()}"),
        ("ROLE_ARN", f"arn:aws:iam::{account}:role/deploy-{g.of(HEX, 8)}"),
        ("signing_key", f"arn:aws:kms:us-east-1:{account}:alias/app-signing"),
        (
            "SECRET_ID",
            f"arn:aws:secretsmanager:eu-west-1:{account}:secret:prod/db-{g.of(ALNUM, 6)}",
        ),
        ("topic", f"arn:aws:sns:eu-west-1:{account}:orders-{g.of(HEX, 6)}"),
    ]
    for name, arn in arns:
        add("arn", f'{name} = "{arn}"', arn)

    for body in (
        'stripe.Charge.create(amount=500, idempotency_key="{u}")',
        'headers = {{"Idempotency-Key": "{u}"}}',
        'cache_key = "{u}"',
        'PARTITION_KEY = "{u}"',
        'table.put_item(Item={{"pk": "{u}", "sort_key": "{u2}"}})',
        'request_key = "{u}"',
        'api.post("/payments", json=body, headers={{"X-Idempotency-Key": "{u}"}})',
        "const dedupeKey = '{u}';",
    ):
        u, u2 = g.uuid(), g.uuid()
        lang = "javascript" if body.startswith("const") else "python"
        add("uuid-key", body.format(u=u, u2=u2), u, lang)

    digest = g.of(HEX, 64)
    add("hash", f'CACHE_KEY = "sha256:{digest}"', digest)
    sha = g.of(HEX, 40)
    add("hash", f'COMMIT_SHA = "{sha}"', sha)
    sri = "sha512-" + g.b64(64)
    add("hash", f'lock = {{"integrity": "{sri}"}}', sri)
    etag = g.of(HEX, 32)
    add("hash", f'response.headers["ETag"] = "{etag}"', etag)
    s3_key = f"uploads/2026/12/{g.uuid()}.png"
    add("object-key", f's3.put_object(Bucket="media", Key="{s3_key}", Body=data)', s3_key)
    object_key = f"reports/{g.of(HEX, 16)}"
    add("object-key", f'object_key = "{object_key}"', object_key)
    trace = g.of(HEX, 32)
    add("identifier", f'span.set_attribute("trace_id", "{trace}")', trace)
    key_id = g.of(HEX, 40)
    add(
        "identifier",
        f'SERVICE_ACCOUNT = {{"type": "service_account", "private_key_id": "{key_id}"}}',
        key_id,
    )
    kms_id = g.uuid()
    add("identifier", f'encryption_key_id = "{kms_id}"', kms_id)
    oid = g.of(HEX, 24)
    add("identifier", f'doc = db.orders.find_one({{"_id": ObjectId("{oid}")}})', oid)
    uid = g.uuid()
    add("identifier", f'order_id = uuid.UUID("{uid}")', uid)
    gid = f"{g.of(string.digits, 12)}-{g.of(string.ascii_lowercase + string.digits, 32)}.apps.googleusercontent.com"
    add("identifier", f'GOOGLE_CLIENT_ID = "{gid}"', gid)
    sentry_key = g.of(HEX, 32)
    add(
        "identifier",
        f'sentry_sdk.init(dsn="https://{sentry_key}@o{g.of(string.digits, 6)}.ingest.sentry.io/{g.of(string.digits, 7)}")',
        sentry_key,
    )
    wallet = "bc1q" + g.of(string.ascii_lowercase + string.digits, 38)
    add("identifier", f'donation_address = "{wallet}"', wallet)
    channel = "C0" + g.of(UPPER_DIGITS, 9)
    add("identifier", f'SLACK_CHANNEL = "{channel}"', channel)
    png = "iVBORw0KGgoAAAANSUhEUgAA" + g.of(B64, 60)
    add("identifier", f'ICON_PNG = "{png}"', png)
    colour = "#" + g.of(HEX, 6)
    add("identifier", f'theme = {{"primary": "{colour}"}}', colour)

    for body, value in (
        ('api_key = os.environ["OPENAI_API_KEY"]', 'os.environ["OPENAI_API_KEY"]'),
        ('token = os.getenv("GITHUB_TOKEN", "")', 'os.getenv("GITHUB_TOKEN", "")'),
        ('API_KEY = "YOUR_API_KEY_HERE"', "YOUR_API_KEY_HERE"),
        ('password = "<password>"', "<password>"),
        ('password = "${DB_PASSWORD}"', "${DB_PASSWORD}"),
        ('password = ""\nuser = "app"', 'password = ""'),
        ('client.auth = ("api", api_key)', '("api", api_key)'),
        ('url = f"postgres://{user}:{password}@{host}/app"', "{password}"),
        ('deploy = "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"', "${{ secrets.GITHUB_TOKEN }}"),
        ('headers = {"Authorization": f"Bearer {token}"}', "Bearer {token}"),
        ("const key = process.env.STRIPE_SECRET_KEY;", "process.env.STRIPE_SECRET_KEY"),
        ('secret = "********"', "********"),
    ):
        lang = "javascript" if body.startswith("const") else "python"
        add("placeholder", body, value, lang)

    for body, value in (
        ('PASSWORD_FIELD = "password"', '"password"'),
        ('password_label = "Password"', '"Password"'),
        ("MIN_PASSWORD_LENGTH = 12", "12"),
        ('password_hint = "at least 12 characters"', "at least 12 characters"),
        ('password_reset_path = "/account/reset"', "/account/reset"),
        (
            'TOKEN_URL = "https://oauth2.googleapis.com/token"',
            "https://oauth2.googleapis.com/token",
        ),
        ('token_type = "Bearer"', '"Bearer"'),
        ('secret_name = "prod/payments/stripe"', "prod/payments/stripe"),
        ('key_alias = "alias/app-key"', "alias/app-key"),
        ('CSRF_HEADER = "X-CSRF-Token"', "X-CSRF-Token"),
        ("max_tokens = 4096", "4096"),
        ('jwt_algorithm = "HS256"', '"HS256"'),
        ('translation_key = "checkout.button.pay_now"', "checkout.button.pay_now"),
        ('db_url = "postgresql://app@localhost:5432/app"', "postgresql://app@localhost:5432/app"),
        (
            'NPMRC = "@acme:registry=https://npm.pkg.github.com\\n"',
            "@acme:registry=https://npm.pkg.github.com",
        ),
        (
            'STORAGE = "AccountName=devstoreaccount1;EndpointSuffix=core.windows.net"',
            "AccountName=devstoreaccount1",
        ),
        (
            'BUS = "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey"',
            "SharedAccessKeyName=RootManageSharedAccessKey",
        ),
        ('session_cookie_name = "sessionid"', '"sessionid"'),
        (
            'client_email = "ci@acme-prod.iam.gserviceaccount.com"',
            "ci@acme-prod.iam.gserviceaccount.com",
        ),
        ('price = Decimal("1999.99")', '"1999.99"'),
    ):
        add("harmless", body, value)
    return cases


def heldout_secrets(seed: int = 20261203) -> list[Case]:
    """Secrets in shapes written after the rules were settled, never tuned against: the figure
    they give is the one to trust for code the rules have not seen."""
    g = _Gen(seed)
    cases: list[Case] = []

    def add(kind: str, body: str, value: str, language: str = "python") -> None:
        name = f"heldout_{len(cases):02d}_{kind.replace('-', '_')}"
        make = {"python": _py, "javascript": _js, "typescript": _js, "go": _go}[language]
        cases.append(Case(kind, language, make(name, body), value, name))

    b = g.of(B64, 40)
    add(
        "aws-secret-key",
        f's3 = boto3.client("s3", aws_access_key_id=key_id, aws_secret_access_key="{b}")',
        b,
    )
    add("password", 'CONFIG = "database:\\n  password: Autumn2022x\\n  host: db\\n"', "Autumn2022x")
    k = "AIza" + g.of(URLSAFE, 35)
    add("google-api-key", f'FIREBASE = \'{{"apiKey": "{k}", "projectId": "acme"}}\'', k)
    add(
        "password",
        'POETRY = \'[http-basic.private]\\nusername = "ci"\\npassword = "Nov3mber!"\\n\'',
        "Nov3mber!",
    )
    s = "sk_live_" + g.of(ALNUM, 24)
    add("stripe-key", f'DOCKERFILE = "FROM python:3.12\\nENV STRIPE_SECRET {s}\\n"', s)
    add(
        "password",
        'run(["curl", "-u", "admin:S3cretPass", "https://ci.acme.dev/api"])',
        "S3cretPass",
    )
    h = g.of(HEX, 32)
    add("secret-assignment", f'requests.get(url, params={{"api_key": "{h}", "q": query}})', h)
    t = g.of(ALNUM, 40)
    add("secret-assignment", f'session.headers.update({{"X-Auth-Token": "{t}"}})', t)
    add("password", 'auth = HttpBasicAuth("deploy", "Sup3rSecret")', "Sup3rSecret")
    add("password", 'ssh_pass = "qwerty123"', "qwerty123")
    add(
        "password",
        'DATABASES = {"default": {"USER": "app", "PASSWORD": "django-db-pw-2024"}}',
        "django-db-pw-2024",
    )
    k = g.of(HEX, 40)
    add("secret-assignment", f'apiKey := "{k}"\n_ = apiKey', k, "go")
    t = g.of(ALNUM, 32)
    add("secret-assignment", f'const authToken = "{t}";', t, "javascript")
    add("password", "$config = ['password' => 'Bl4ckCat!'];".replace("$", "php_"), "Bl4ckCat!")
    b = g.of(B64, 40)
    add("dotenv", f'SCRIPT = "export AWS_SECRET_ACCESS_KEY={b}\\n"', b)
    add("password", 'ldap.simple_bind_s("cn=admin,dc=acme,dc=dev", "Adm1nPass!")', "Adm1nPass!")
    add("password", 'cache = redis.Redis(host="cache", password="r3dis-pass")', "r3dis-pass")
    add("password", 'ssh.connect("bastion", username="root", password="toor1234")', "toor1234")
    d = f"{base64.b64encode(g.of(string.digits, 18).encode()).decode().rstrip('=')}.{g.of(URLSAFE, 6)}.{g.of(URLSAFE, 38)}"
    add("chat-token", f'bot.run("{d}")', d)
    tg = f"{g.of(string.digits, 10)}:AA{g.of(URLSAFE, 33)}"
    add("chat-token", f'bot = Bot("{tg}")', tg)
    add("url-password", 'BACKUP = "sftp://backup:Pa55word@files.acme.dev/nightly"', "Pa55word")
    add(
        "conn-password",
        'conn = psycopg2.connect("dbname=app user=app password=pg-Secret-9")',
        "pg-Secret-9",
    )
    sas = f"sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-31&sig={g.of(ALNUM, 43)}%3D"
    add("connection-string", f'SAS_TOKEN = "{sas}"', sas)
    u = g.uuid()
    add(
        "password", f'NETRC = "machine api.heroku.com\\n  login me@acme.dev\\n  password {u}\\n"', u
    )
    w = f"https://hooks.slack.com/services/T{g.of(UPPER_DIGITS, 8)}/B{g.of(UPPER_DIGITS, 10)}/{g.of(ALNUM, 24)}"
    add("chat-webhook", f"const slackWebhook = '{w}';", w, "javascript")
    return cases


def heldout_lookalikes(seed: int = 20261204) -> list[Case]:
    """Look-alikes written after the rules were settled, never tuned against."""
    g = _Gen(seed)
    cases: list[Case] = []

    def add(kind: str, body: str, value: str) -> None:
        name = f"heldout_plain_{len(cases):02d}_{kind.replace('-', '_')}"
        cases.append(Case(kind, "python", _py(name, body), value, name))

    for body, value in (
        ('public_key_pem = Path("deploy.pub").read_text()', "deploy.pub"),
        ('KEY_VAULT_URL = "https://acme.vault.azure.net/"', "https://acme.vault.azure.net/"),
        (
            'secret_path = "projects/acme/secrets/db/versions/latest"',
            "projects/acme/secrets/db/versions/latest",
        ),
        ("token_bucket_capacity = 100", "100"),
        ('password_policy = "min12-upper-digit"', "min12-upper-digit"),
        ('API_KEY_HEADER = "X-Api-Key"', "X-Api-Key"),
        ('session_key = "user_session"', "user_session"),
        ('encryption_algorithm = "AES-256-GCM"', "AES-256-GCM"),
        ('x_api_key_name = "x-api-key"', "x-api-key"),
        ('auth_header = "Authorization: Bearer " + token', "Authorization: Bearer"),
        ('webhook_path = "/hooks/github"', "/hooks/github"),
        ('TEST_CARD = "4242424242424242"', "4242424242424242"),
        ('jwt_audience = "https://api.acme.dev"', "https://api.acme.dev"),
        ('user_password_column = "password_hash"', "password_hash"),
        ('AWS_ACCOUNT_ID = "123456789012"', "123456789012"),
        (
            'auth_endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"',
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        ),
    ):
        add("harmless", body, value)
    acct = "acct_" + g.of(ALNUM, 16)
    add("identifier", f'stripe_account = "{acct}"', acct)
    price = "price_" + g.of(ALNUM, 24)
    add("identifier", f'PRICE_ID = "{price}"', price)
    cid = g.of(HEX, 20)
    add("identifier", f'oauth = {{"client_id": "{cid}", "scope": "read"}}', cid)
    fp = "SHA256:" + g.of(B64, 43)
    add("hash", f'cert_fingerprint = "{fp}"', fp)
    digest = "sha256:" + g.of(HEX, 64)
    add("hash", f'IMAGE_DIGEST = "{digest}"', digest)
    mapbox = "pk.eyJ1IjoiYWNtZSIsImEiOiJ" + g.of(ALNUM, 20) + "In0." + g.of(URLSAFE, 22)
    add("publishable-key", f'mapbox_public_token = "{mapbox}"', mapbox)
    known = "AAAAC3NzaC1lZDI1NTE5AAAAI" + g.of(B64, 43)
    add("public-key", f'ssh_known_host = "github.com ssh-ed25519 {known}"', known)
    pub = g.b64(32)
    add("public-key", f'VAPID_PUBLIC_KEY = "{pub}"', pub)
    idem = g.uuid()
    add("uuid-key", f'payment = client.create(amount, idempotencyKey="{idem}")', idem)
    return cases


# -- measuring: what reaches a model ------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """How a group of cases fared: the cases whose secret reached the model (missed), or whose
    look-alike was changed on the way (over-redacted)."""

    cases: list[Case]
    wrong: list[Case]

    @property
    def rate(self) -> float:
        """The share of cases that went wrong."""
        return len(self.wrong) / len(self.cases) if self.cases else 0.0


def engine_for(base_url: str, *, local: bool = False, prompts: dict[str, str] | None = None) -> Any:
    """An engine whose budget tier is one Anthropic-protocol model at `base_url` (the fake), with
    no cache (every case must reach the model) and no ledger. The key is ANTHROPIC_API_KEY."""
    from tierwise.config import CacheConfig, Config, LedgerConfig, ProviderConfig, TierConfig
    from tierwise.engine import Engine

    config = Config(
        providers={
            "anthropic": ProviderConfig(
                kind="anthropic",
                base_url=base_url,
                api_key_env=None if local else "ANTHROPIC_API_KEY",
                local=local,
                max_retries=0,
            )
        },
        tiers={"budget": TierConfig(models=["anthropic:claude-haiku-4-5"], timeout=30)},
        cache=CacheConfig(enabled=False),
        ledger=LedgerConfig(enabled=False),
        prompts=prompts or {},
    )
    return Engine(config)


async def sent_for(engine: Any, fake: Any, case: Case, action: str = "explain") -> str:
    """Everything the model received for an action on the case's function: system, messages."""
    from tests.fakes.wire_formats import text_of

    task = engine.build_task(action, case.path, case.code, case.line, 4, tier="budget")
    before = fake.request_count
    await engine.run(task)
    (request,) = fake.requests[before:]
    return text_of(request.body.get("system", [])) + text_of(request.body.get("messages", []))


async def measure(engine: Any, fake: Any, cases: list[Case], *, secret: bool) -> Measured:
    """Send each case through the engine to the fake: secrets must not arrive, look-alikes must."""
    wrong = []
    for case in cases:
        arrived = case.value in await sent_for(engine, fake, case)
        if arrived == secret:
            wrong.append(case)
    return Measured(cases, wrong)
