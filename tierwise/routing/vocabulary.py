"""The risk vocabulary the routing signals match: modules, calls and words, one row per line.

Row kinds:
- module: qualified-name prefixes (modules, packages, crates); they count when the name was
  resolved through an import, or its root is not also a common variable name;
- exact: whole qualified names; last: the final segment of any call ("x.rmtree");
- word: snake/camel-case words in identifiers (whole words: "author" is not auth);
- money: words that count for payments only next to a money marker;
- receiver/method: generic method names that count only on a database or store receiver;
- verb/object: a deletion verb and the kind of thing it deletes ("delete_model", "removeFiles");
- ambiguous: roots that are also common variable names.
"""

from __future__ import annotations

# Categories in the order reasons list them. "auth" covers sessions and permission checks;
# "crypto" signing and verification; "filesystem" writes and path-traversal guards;
# "validation" input validation and sanitising of untrusted data.
RISK_CATEGORIES = (
    "auth",
    "crypto",
    "payments",
    "sql",
    "deletion",
    "filesystem",
    "deserialization",
    "exec",
    "concurrency",
    "validation",
)

TABLE = """
module auth jwt jose jsonwebtoken bcrypt passlib argon2 authlib oauthlib flask_login itsdangerous
module auth passport django.contrib.auth github.com/golang-jwt/jwt golang.org/x/crypto/bcrypt
module crypto hashlib hmac secrets cryptography Crypto nacl ssl crypto sha2 aes_gcm ring openssl
module crypto rsa ed25519_dalek crypto/hmac crypto/rsa crypto/ecdsa crypto/ed25519 crypto/subtle
module crypto github.com/gorilla/securecookie
module payments stripe braintree paypalrestsdk paypal adyen
module sql sqlite3 psycopg2 psycopg pymysql MySQLdb asyncpg sqlalchemy pg mysql mysql2
module sql knex database/sql github.com/jackc/pgx gorm.io/gorm sqlx diesel rusqlite
module sql django.db.migrations alembic.op
module deletion rimraf
module deserialization pickle cPickle _pickle marshal shelve dill cloudpickle jsonpickle
module exec subprocess pty child_process execa os/exec std::process tokio::process
module concurrency threading _thread multiprocessing concurrent.futures worker_threads sync
module concurrency sync/atomic std::thread std::sync tokio::sync rayon crossbeam fcntl msvcrt
exact crypto os.urandom
exact deletion shutil.rmtree os.remove os.unlink os.rmdir os.removedirs os.Remove os.RemoveAll
exact deletion fs.rm fs.rmSync fs.unlink fs.unlinkSync fs.rmdir fs.rmdirSync fs.promises.rm
exact deletion fs.promises.unlink fs/promises.rm fs/promises.unlink std::fs::remove_file
exact deletion std::fs::remove_dir std::fs::remove_dir_all
exact filesystem shutil.copyfileobj shutil.copy shutil.copy2 shutil.copyfile shutil.copytree
exact filesystem shutil.move os.rename os.replace os.chmod os.chown os.symlink os.link os.open
exact filesystem tempfile.mkstemp tempfile.mkdtemp tempfile.NamedTemporaryFile os.makedirs
exact filesystem fs.writeFile fs.writeFileSync fs.createWriteStream fs.appendFile
exact filesystem fs.appendFileSync fs.rename fs.renameSync fs.copyFile fs.copyFileSync fs.chmod
exact filesystem fs.symlink fs.promises.writeFile os.WriteFile ioutil.WriteFile os.Create
exact filesystem os.OpenFile os.Rename os.Chmod os.Symlink std::fs::write std::fs::rename
exact deserialization pickle.load pickle.loads marshal.loads marshal.load yaml.load
exact deserialization yaml.unsafe_load yaml.full_load yaml.load_all yaml.unsafe_load_all
exact deserialization shelve.open jsonpickle.decode dill.load dill.loads
exact exec eval exec __import__ Function os.system os.popen os.execv os.execve os.execvp os.execl
exact exec os.execlp os.spawnv os.spawnl os.posix_spawn syscall.Exec importlib.import_module
exact exec asyncio.create_subprocess_exec asyncio.create_subprocess_shell
exact concurrency asyncio.gather asyncio.create_task asyncio.wait asyncio.as_completed
exact concurrency asyncio.Lock asyncio.Semaphore asyncio.Event asyncio.Condition asyncio.Queue
exact concurrency asyncio.TaskGroup asyncio.to_thread asyncio.run_coroutine_threadsafe
exact concurrency tokio::spawn Worker SharedArrayBuffer Atomics
exact validation html.escape markupsafe.escape bleach.clean
last auth check_password set_password verify_password hash_password check_password_hash
last auth generate_password_hash authenticate login_user logout_user login logout
last crypto Fernet AESGCM pbkdf2_hmac createCipheriv createDecipheriv createHmac createHash
last crypto randomBytes compare_digest timingSafeEqual consteq
last payments charge refund capture_payment create_payment_intent
last sql execute_sql executescript raw_sql
last deletion rmtree unlink delete_many delete_one deleteMany deleteOne delete_object
last deletion delete_objects deleteObject deleteObjects drop_table drop_all bulk_delete purge
last filesystem send_file send_from_directory safe_join sendFile write_text write_bytes
last filesystem createWriteStream writeFileSync copyfileobj
last exec runsource runcode exec_module
last concurrency Lock RLock Unlock RUnlock flock lockf
word auth password passwd passphrase jwt jws jwe oauth oauth2 auth auth0 authn authz
word auth authenticate authenticated authentication authenticator authorize authorized
word auth authorization credential credentials csrf xsrf permission permissions privilege
word auth privileges bearer claims realm totp hotp otp mfa
word crypto encrypt decrypt encrypted decrypted encryption decryption cipher ciphertext
word crypto plaintext nonce hmac sha1 sha256 sha512 md5 aes rsa pbkdf2 scrypt keypair
word crypto signature signatures sig signer signers signing signed unsign secret secrets salt
word crypto entropy certificate pem x509
word payments payment payments pay payout payouts refund refunds refunded invoice invoices
word payments billing checkout charge charges charged stripe cvv cvc iban
word deserialization pickle unpickle unpickler deserialize deserialise unserialize
word deserialization unserialise
word concurrency lock locks mutex semaphore spinlock
word validation sanitize sanitise sanitizer sanitiser sanitized sanitised sanitizing xss
word validation trust trusted untrusted allowlist whitelist blocklist blacklist injection
word filesystem traversal dotfile dotfiles
money amount price prices amount amounts total subtotal cost costs fee fees tax balance discount
money marker decimal quantize currency cents money
receiver db cursor cur conn connection db database session engine pool tx txn trx knex sql stmt
receiver db statement
receiver store objects filter query repo repository table collection bucket s3 requests httpx
method sql execute executemany executescript exec query raw Exec Query QueryRow QueryContext
method sql ExecContext QueryRowContext
method deletion delete destroy
verb deletion delete remove drop truncate purge erase destroy wipe unlink rmtree
object deletion file files dir dirs directory directories folder folders table tables schema
object deletion database db rows row records record query model models user users account
object deletion accounts bucket objects uploaded upload uploads session sessions version
object deletion versions data store storage filesystem collection
ambiguous root sync ring pg crypto pty mysql rsa sqlx
"""

# Identifiers whose words only mean something together (compared without case or "_").
COMPOUNDS = (
    ("auth", ("accesstoken", "refreshtoken", "sessiontoken", "apikey", "clientsecret")),
    ("auth", ("login", "logout", "signin", "signout")),
    ("crypto", ("privatekey", "publickey", "signingkey", "secretkey", "keypair", "keypairs")),
    ("filesystem", ("sendfile", "sendfromdirectory", "safejoin", "dotfile", "dotfiles")),
    ("payments", ("cardnumber", "creditcard")),
    ("validation", ("trustedhosts", "allowedhosts", "allowedorigins", "trustproxy")),
)
# A comparison named safe or constant-time is a timing-safe comparison of secrets.
SAFE_WORDS = frozenset({"safe", "secure", "constant", "timing", "const"})
COMPARE_WORDS = frozenset({"compare", "equal", "equals", "eq", "cmp"})
# A name that guards paths: safe_join, secure_filename, safePath.
PATH_WORDS = frozenset({"filename", "path", "join", "dir", "directory", "filepath"})
# Loader names that build objects from data (YAML's unsafe and full loaders, pickle's).
LOADER_WORDS = frozenset({"load", "loads", "loader", "constructor", "construct", "decode"})
LOAD_FUNCTIONS = frozenset({"load", "loads", "load_all", "unsafe_load", "full_load"})


def table(kind: str, category: str | None = None) -> dict[str, str]:
    """name -> category for the rows of one kind (and category) of the table."""
    rows = (line.split() for line in TABLE.splitlines() if line.strip())
    return {
        name: row[1]
        for row in rows
        if row[0] == kind and category in (None, row[1])
        for name in row[2:]
    }
