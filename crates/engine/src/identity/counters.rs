//! The identity stage's counters (`identity.*`): table sizes, evictions and
//! what the stage refused or could not attribute.

use crate::counters::Counters;

macro_rules! identity_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the identity stage saw, kept and dropped.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct IdentityCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for IdentityCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

identity_counters! {
    /// Devices tracked now.
    devices => "identity.devices",
    /// Devices ever created.
    devices_created => "identity.devices_created",
    /// Devices evicted because the table was full.
    evicted => "identity.evicted",
    /// Devices with a locally administered (randomized) MAC, ever created.
    randomized_macs => "identity.randomized_macs",
    /// MACs recognised as routers (many source addresses not their own).
    routers => "identity.routers",
    /// IP → MAC bindings held now.
    ip_bindings => "identity.ip_bindings",
    /// IP bindings dropped because the binding table was full.
    ip_bindings_evicted => "identity.ip_bindings_evicted",
    /// Identifier-table entries (DHCP client ids, TLS client certificates) evicted.
    identifiers_evicted => "identity.identifiers_evicted",
    /// Packets handled in full (their sender's device looked up).
    packets_attributed => "identity.packets_attributed",
    /// Packets that repeated their MAC's last source address and VLAN
    /// within the memo window (one probe, no lookup).
    packets_repeated => "identity.packets_repeated",
    /// ARP messages whose sender hardware address differs from the frame's source MAC.
    arp_sender_mismatch => "identity.arp_sender_mismatch",
    /// Protocol records that named no tracked device.
    records_unattributed => "identity.records_unattributed",
    /// Classification hints added to devices.
    hints => "identity.hints",
    /// Classifications recomputed (once per evidence change, not per packet).
    classifications => "identity.classifications",
    /// Identity findings raised.
    findings => "identity.findings",
    /// Findings not raised again within the suppression interval.
    findings_suppressed => "identity.findings_suppressed",
    /// Findings dropped because the pending queue was full.
    evidence_dropped => "identity.evidence_dropped",
}
