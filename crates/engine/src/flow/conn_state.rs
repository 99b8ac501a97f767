//! Zeek's `conn_state` (the function of the same name in
//! `base/protocols/conn/main.zeek`): endpoint states, sizes and history in →
//! one [`ConnState`] out. TCP uses the endpoint state machine; UDP only
//! whether each side sent anything; ICMP and other protocols are `OTH`.
#![deny(clippy::indexing_slicing)]

use super::history::History;
use super::record::ConnState;
use super::tcp_endpoint::{EndpointState as St, TcpEndpoint};

fn inactive(s: St) -> bool {
    matches!(s, St::Inactive | St::Partial)
}

/// `conn_state` of a TCP connection.
pub(crate) fn tcp_conn_state(
    orig: &TcpEndpoint,
    resp: &TcpEndpoint,
    history: &History,
) -> ConnState {
    let (os, rs) = (orig.state, resp.state);
    if rs == St::Reset {
        let no_bytes = || orig.size(rs) == 0 && resp.size(os) == 0;
        if matches!(os, St::SynSent | St::SynAckSent) || (os == St::Reset && no_bytes()) {
            ConnState::Rejected
        } else if inactive(os) {
            ConnState::RespSynAckThenReset
        } else {
            ConnState::RespReset
        }
    } else if os == St::Reset {
        if inactive(rs) {
            if history.is_syn_then_orig_reset() {
                ConnState::OrigSynThenReset
            } else {
                ConnState::Other
            }
        } else {
            ConnState::OrigReset
        }
    } else if rs == St::Closed && os == St::Closed {
        ConnState::Finished
    } else if os == St::Closed {
        if inactive(rs) {
            ConnState::OrigSynThenFin
        } else {
            ConnState::OrigClosedNoReply
        }
    } else if rs == St::Closed {
        if inactive(os) {
            ConnState::RespSynAckThenFin
        } else {
            ConnState::RespClosedNoReply
        }
    } else if os == St::SynSent && rs == St::Inactive {
        ConnState::AttemptNoReply
    } else if os == St::Established && rs == St::Established {
        ConnState::EstablishedOpen
    } else {
        ConnState::Other
    }
}

/// `conn_state` of a UDP connection: which sides sent a datagram.
pub(crate) fn udp_conn_state(orig_active: bool, resp_active: bool) -> ConnState {
    match (orig_active, resp_active) {
        (true, true) => ConnState::Finished,
        (true, false) => ConnState::AttemptNoReply,
        (false, true) => ConnState::RespSynAckThenFin,
        (false, false) => ConnState::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(state: St) -> TcpEndpoint {
        let mut e = TcpEndpoint::new();
        e.state = state;
        e
    }

    #[test]
    fn table_of_states() {
        let h = History::default();
        let cases = [
            (St::SynSent, St::Inactive, "S0"),
            (St::Established, St::Established, "S1"),
            (St::Closed, St::Closed, "SF"),
            (St::SynSent, St::Reset, "REJ"),
            (St::Closed, St::Established, "S2"),
            (St::Established, St::Closed, "S3"),
            (St::Reset, St::Established, "RSTO"),
            (St::Established, St::Reset, "RSTR"),
            (St::Inactive, St::Reset, "RSTRH"),
            (St::Closed, St::Inactive, "SH"),
            (St::Inactive, St::Closed, "SHR"),
            (St::Partial, St::Partial, "OTH"),
            (St::Reset, St::Inactive, "OTH"),
        ];
        for (o, r, code) in cases {
            assert_eq!(
                tcp_conn_state(&ep(o), &ep(r), &h).code(),
                code,
                "{o:?}/{r:?}"
            );
        }
    }

    #[test]
    fn udp_states() {
        assert_eq!(udp_conn_state(true, true).code(), "SF");
        assert_eq!(udp_conn_state(true, false).code(), "S0");
        assert_eq!(udp_conn_state(false, true).code(), "SHR");
    }
}
