//! What the identity stage is built from ([`IdentityConfig`]) and the named
//! limits that bound every table and list it keeps.
//!
//! In: site configuration (local networks, routed fleet subnets, site name).
//! Out: a validated config the stage reads. Every limit here is a `pub const`
//! so `stats` output and the docs can name it.

use crate::net::{IpNet, LocalNets};
use crate::time::Duration;

/// Devices tracked at once; beyond this the least recently seen are evicted
/// in batches (counter: `identity.evicted`).
pub const MAX_DEVICES: usize = 100_000;
/// IP → MAC bindings kept (each device holds at most [`MAX_IPS_PER_DEVICE`]).
pub const MAX_IP_BINDINGS: usize = 2 * MAX_DEVICES;
/// DHCP client identifiers and TLS client certificates remembered for the
/// duplicate-identity check (each table).
pub const MAX_IDENTIFIERS: usize = MAX_DEVICES;
/// IP addresses kept in one device's history (least recently used dropped).
pub const MAX_IPS_PER_DEVICE: usize = 8;
/// Host names kept in one device's history.
pub const MAX_HOSTNAMES_PER_DEVICE: usize = 8;
/// VLAN ids kept per device.
pub const MAX_VLANS_PER_DEVICE: usize = 8;
/// Sites kept per device.
pub const MAX_SITES_PER_DEVICE: usize = 4;
/// Classification hints kept per device (the weakest is replaced when full).
pub const MAX_CLASS_EVIDENCE: usize = 24;
/// Recently seen observations (domains, user agents, services …) remembered
/// per device so a repeated one is not matched against the rules again.
pub const MAX_RECENT_HINTS: usize = 32;
/// Gateway addresses remembered (DHCP router option, routers' own addresses).
pub const MAX_GATEWAY_IPS: usize = 16;
/// Characters kept of any text copied from a packet into a device record.
pub const MAX_TEXT: usize = 128;

/// Identity findings waiting to be drained (counter: `identity.evidence_dropped`).
pub const DEFAULT_MAX_PENDING_EVIDENCE: usize = 65_536;
/// Devices first seen in the capture's first ten minutes are the existing
/// fleet, not new devices.
pub const DEFAULT_LEARNING_PERIOD: Duration = Duration::from_secs(600);
/// The same finding about the same device is not repeated within this
/// interval (Zeek's notice suppression default).
pub const DEFAULT_SUPPRESS_INTERVAL: Duration = Duration::from_secs(3600);
/// A binding used within this long is active: a second MAC claiming its IP,
/// or a second IP on its MAC, is a conflict rather than a change.
pub const DEFAULT_BINDING_ACTIVE_WINDOW: Duration = Duration::from_secs(300);
/// A MAC that sends from more than this many distinct source addresses not
/// bound to it within [`ROUTER_WINDOW`] is a router: remote and new
/// addresses are not bound to it.
pub const DEFAULT_ROUTER_MIN_SOURCES: usize = 16;
/// Window over which a router's distinct source addresses are counted.
pub const ROUTER_WINDOW: Duration = Duration::from_secs(600);
/// A new device is reported this long after it was first seen, so the
/// finding carries its DHCP host name, vendor and class.
pub const NEW_DEVICE_SETTLE: Duration = Duration::from_secs(30);

/// Site configuration of the identity stage.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Hosts with an address in these networks are on a local segment and
    /// keyed by MAC. Empty means the private ranges.
    pub local_nets: LocalNets,
    /// Routed fleet subnets: hosts there are behind a router, keyed by IP.
    pub routed_fleet_nets: Vec<IpNet>,
    /// The sensor's site name, recorded on every device it sees.
    pub site: String,
    pub max_devices: usize,
    pub learning_period: Duration,
    pub suppress_interval: Duration,
    pub binding_active_window: Duration,
    pub router_min_sources: usize,
    pub max_pending_evidence: usize,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            local_nets: LocalNets::private_ranges(),
            routed_fleet_nets: Vec::new(),
            site: "local".to_string(),
            max_devices: MAX_DEVICES,
            learning_period: DEFAULT_LEARNING_PERIOD,
            suppress_interval: DEFAULT_SUPPRESS_INTERVAL,
            binding_active_window: DEFAULT_BINDING_ACTIVE_WINDOW,
            router_min_sources: DEFAULT_ROUTER_MIN_SOURCES,
            max_pending_evidence: DEFAULT_MAX_PENDING_EVIDENCE,
        }
    }
}

impl IdentityConfig {
    /// The defaults with `local_nets` (private ranges when empty).
    pub fn with_local_nets(local_nets: LocalNets) -> Self {
        let mut c = IdentityConfig::default();
        if !local_nets.is_empty() {
            c.local_nets = local_nets;
        }
        c
    }

    /// The config with limits raised to their minimum working values.
    pub(crate) fn normalized(mut self) -> Self {
        if self.local_nets.is_empty() {
            self.local_nets = LocalNets::private_ranges();
        }
        self.max_devices = self.max_devices.max(1);
        self.router_min_sources = self.router_min_sources.max(1);
        self.site = super::text::bounded(&self.site);
        self
    }
}
