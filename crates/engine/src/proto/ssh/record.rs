//! The `ssh` log: Zeek's ssh.log (`ts uid id.* version auth_success
//! auth_attempts direction client server cipher_alg mac_alg compression_alg
//! kex_alg host_key_alg host_key`) followed by the columns the HASSH package
//! for Zeek adds (`hasshVersion hassh hasshServer cshka hasshAlgorithms sshka
//! hasshServerAlgorithms`), in that package's order.

use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One SSH connection.
#[derive(Debug, Clone, PartialEq)]
pub struct SshRecord {
    /// First identification string (or NEWKEYS) seen, as Zeek's `set_session`.
    pub ts: Timestamp,
    pub conn: ConnId,
    /// 1 or 2 (0 for an SSH-1 client against an SSH-2-only server), from both
    /// identification strings as Zeek's `set_version`; unset until both are seen.
    pub version: Option<u64>,
    /// Zeek's size heuristic (see `state::AuthHeuristic`); unset when undecided.
    pub auth_success: Option<bool>,
    pub auth_attempts: u64,
    /// Client and server identification strings (at most `MAX_IDENT_LEN` bytes).
    pub client: Option<String>,
    pub server: Option<String>,
    /// Negotiated algorithms (first client choice the server also offers;
    /// `Algorithm negotiation failed` when none), once both KEXINITs are seen.
    pub cipher_alg: Option<String>,
    pub mac_alg: Option<String>,
    pub compression_alg: Option<String>,
    pub kex_alg: Option<String>,
    pub host_key_alg: Option<String>,
    /// MD5 fingerprint of the server host key blob, `aa:bb:…`.
    pub host_key: Option<String>,
    /// `1.1` when a HASSH is present.
    pub hassh_version: Option<&'static str>,
    /// md5("kex;enc c→s;mac c→s;compression c→s") of the client's KEXINIT.
    pub hassh: Option<String>,
    /// md5("kex;enc s→c;mac s→c;compression s→c") of the server's KEXINIT.
    pub hassh_server: Option<String>,
    /// The client's server-host-key algorithms.
    pub cshka: Option<String>,
    pub hassh_algorithms: Option<String>,
    /// The server's server-host-key algorithms.
    pub sshka: Option<String>,
    pub hassh_server_algorithms: Option<String>,
}

const FIELDS: [Field; 25] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("version", "count"),
    Field::new("auth_success", "bool"),
    Field::new("auth_attempts", "count"),
    Field::new("direction", "enum"),
    Field::new("client", "string"),
    Field::new("server", "string"),
    Field::new("cipher_alg", "string"),
    Field::new("mac_alg", "string"),
    Field::new("compression_alg", "string"),
    Field::new("kex_alg", "string"),
    Field::new("host_key_alg", "string"),
    Field::new("host_key", "string"),
    Field::new("hasshVersion", "string"),
    Field::new("hassh", "string"),
    Field::new("hasshServer", "string"),
    Field::new("cshka", "string"),
    Field::new("hasshAlgorithms", "string"),
    Field::new("sshka", "string"),
    Field::new("hasshServerAlgorithms", "string"),
];

impl LogRecord for SshRecord {
    fn path(&self) -> &'static str {
        "ssh"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        fn s(v: &Option<String>) -> Value<'_> {
            Value::opt_str(v.as_deref())
        }
        self.conn.visit(self.ts, f);
        f(Value::opt_count(self.version));
        f(Value::opt_bool(self.auth_success));
        f(Value::Count(self.auth_attempts));
        // Zeek's `direction` needs Site::local_nets, which an analyzer does
        // not know: always unset here.
        f(Value::Unset);
        f(s(&self.client));
        f(s(&self.server));
        f(s(&self.cipher_alg));
        f(s(&self.mac_alg));
        f(s(&self.compression_alg));
        f(s(&self.kex_alg));
        f(s(&self.host_key_alg));
        f(s(&self.host_key));
        f(Value::opt_str(self.hassh_version));
        f(s(&self.hassh));
        f(s(&self.hassh_server));
        f(s(&self.cshka));
        f(s(&self.hassh_algorithms));
        f(s(&self.sshka));
        f(s(&self.hassh_server_algorithms));
    }
}
