//! The built world, checked from outside the model: what `build` makes must hold together.

use crate::model::srd::{SRD_ENTROPY_BASE, SRD_OUTER_PORT};
use crate::model::{Attach, Model};
use crate::net::PortId;
use crate::net::fabric::FiveTuple;

/// A bundled ENA Express scenario with pairs of every kind: client and server in different
/// racks, client and sender in one rack, client and receiver in different AZs.
fn model() -> Model {
    let text = include_str!("../../../scenarios/ena-vs-express.ron");
    let sets = ["variants=[]", "instances.sender.rack=0", "instances.receiver.availability_zone=\"use1-az2\""];
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let v = crate::scenario::load("ena-vs-express.ron", text, &sets, None).unwrap().remove(0);
    let m = super::build(&v.name, &v.spec).unwrap();
    let names: Vec<&str> = m.insts.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["client", "server", "sender", "receiver"]);
    m
}

/// The spine a ToR's ECMP picks for path k's outer header from instance i to j, hashed here
/// rather than asked of the code under test; 0 within a rack.
fn spine(m: &Model, i: u32, j: u32, k: u32) -> u32 {
    let (hi, hj) = (m.insts[i as usize].host, m.insts[j as usize].host);
    if m.fabric.rack_of(hi) == m.fabric.rack_of(hj) {
        return 0;
    }
    let t = FiveTuple {
        src_ip: m.insts[i as usize].ip,
        dst_ip: m.insts[j as usize].ip,
        src_port: SRD_ENTROPY_BASE + k as u16,
        dst_port: SRD_OUTER_PORT,
        protocol: 17,
    };
    m.fabric.ecmp_spine(hi, &t)
}

/// Path k's routes as a connection from i to j must have them, built afresh: the sending
/// card's stage and the fabric (and inter-AZ link) through the spine its entropy picks, and
/// the ACKs' the fabric back through the spine the same entropy picks at the other end.
fn expected(m: &mut Model, i: u32, j: u32, k: u32) -> (Vec<PortId>, Vec<PortId>) {
    let (spine_out, spine_back) = (spine(m, i, j, k), spine(m, j, i, k));
    let mut data = vec![m.insts[i as usize].srd_tx_proc];
    m.push_fabric_via(Attach::Instance(i), Attach::Instance(j), spine_out, &mut data);
    let mut ack = Vec::new();
    m.push_fabric_via(Attach::Instance(j), Attach::Instance(i), spine_back, &mut ack);
    (data, ack)
}

#[test]
fn a_connection_and_its_reverse_share_routes_whichever_comes_first() {
    // Client to server (racks apart), to sender (one rack), to receiver (AZs apart).
    for j in 1..4 {
        for reverse_first in [false, true] {
            let mut m = model();
            let i = 0;
            let (ij, ji) = if reverse_first {
                let ji = m.srd_context(j, i, None);
                (m.srd_context(i, j, None), ji)
            } else {
                let ij = m.srd_context(i, j, None);
                (ij, m.srd_context(j, i, None))
            };
            let stored = m.routes.stored_ports();
            let case = format!("client to {}, reverse first: {reverse_first}", m.insts[j as usize].name);
            for k in 0..m.srd_cfg.paths {
                assert_eq!(m.srd_path_spines(i, j, k), (spine(&m, i, j, k), spine(&m, j, i, k)), "{case}");
                for (ctx, from, to) in [(ij, i, j), (ji, j, i)] {
                    let (data, ack) = expected(&mut m, from, to, k);
                    let routes = m.path_routes(ctx, k as u16);
                    assert_eq!(m.routes.get(routes.data), data, "{case}: path {k} from {from}: data");
                    assert_eq!(m.routes.get(routes.ack), ack, "{case}: path {k} from {from}: ACKs");
                }
                // The ACKs of i -> j ride on the data route of j -> i, after its SRD stage.
                assert_eq!(m.path_routes(ij, k as u16).ack, m.path_routes(ji, k as u16).data + 1, "{case}");
                assert_eq!(m.path_routes(ji, k as u16).ack, m.path_routes(ij, k as u16).data + 1, "{case}");
            }
            // One route per spine and direction, each its ports and an end marker: nothing more.
            let spines = |from, to| {
                (0..m.srd_cfg.paths).map(|k| spine(&m, from, to, k)).collect::<std::collections::BTreeSet<u32>>().len()
            };
            let (out, back) = (spines(i, j), spines(j, i));
            let same_rack = j == 2;
            assert_eq!(same_rack, out == 1 && back == 1, "{case}: spines {out} and {back}");
            let per_route = expected(&mut m, i, j, 0).0.len() + 1;
            assert_eq!(stored, (out + back) * per_route, "{case}");
        }
    }
}

/// An SRD data packet's route (card stage, NIC, ToR, spine, ToR, and the inter-AZ link where
/// there is one) is short enough to leave its first line an entry no hop reads, where it carries
/// its ACK's route (`Packet::carry`): the receiving card then never reads the path-route table.
/// For every path of pairs in different racks, in one rack and in different AZs.
#[test]
fn srd_data_packets_carry_their_ack_route_for_every_kind_of_pair() {
    use crate::net::packet::{AHEAD_PORTS, Packet};
    let mut m = model();
    let tag = crate::net::MAX_PORTS as u32 | 7;
    for (i, j) in [(0, 1), (0, 2), (0, 3)] {
        let ctx = m.srd_context(i, j, None);
        for path in 0..m.srd_cfg.paths as u16 {
            let routes = m.path_routes(ctx, path);
            let ports = m.routes.get(routes.data).len();
            let mut p = Packet { route: routes.data, ..Packet::default() };
            m.routes.fill_ahead(p.route, &mut p.ahead, tag);
            let read_by_hops = p.ahead;
            assert!(p.carry(routes.ack), "{i} -> {j}, path {path}: a route of {ports} ports leaves no room");
            assert_eq!(p.carried(), Some(routes.ack));
            assert!(ports + 2 <= AHEAD_PORTS);
            assert_eq!(p.ahead[..=ports], read_by_hops[..=ports], "what the hops read is unchanged");
        }
    }
}
