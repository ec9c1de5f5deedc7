//! Checks made before the node starts, so that a configuration mistake ends in one clear
//! error instead of a half-started node. The RPC server would otherwise move to a random port
//! when its port is taken, leaving operators and their tooling talking to the wrong process.

use sc_network::multiaddr::Protocol;
use sc_service::Configuration;
use std::net::{SocketAddr, TcpListener};

/// Fails if a port the node must listen on is already in use.
pub fn check_ports(config: &Configuration) -> Result<(), String> {
	if let Some(endpoints) = &config.rpc.addr {
		for endpoint in endpoints.iter().filter(|e| !e.is_optional) {
			check(endpoint.listen_addr, "JSON-RPC", "--rpc-port")?;
		}
	}
	if let Some(prometheus) = &config.prometheus_config {
		check(prometheus.port, "Prometheus", "--prometheus-port or --no-prometheus")?;
	}
	for addr in &config.network.listen_addresses {
		let mut ip = None;
		let mut port = None;
		for protocol in addr.iter() {
			match protocol {
				Protocol::Ip4(a) => ip = Some(a.into()),
				Protocol::Ip6(a) => ip = Some(a.into()),
				Protocol::Tcp(p) => port = Some(p),
				_ => {}
			}
		}
		if let (Some(ip), Some(port)) = (ip, port) {
			check(SocketAddr::new(ip, port), "p2p", "--port")?;
		}
	}
	Ok(())
}

/// Fails if the embedded ML service's port is already in use.
pub fn check_ml_port(addr: SocketAddr) -> Result<(), String> {
	check(addr, "ML service", "--ml-rpc-addr (or --no-ml)")
}

fn check(addr: SocketAddr, what: &str, flag: &str) -> Result<(), String> {
	if addr.port() == 0 {
		return Ok(());
	}
	match TcpListener::bind(addr) {
		Ok(_) => Ok(()),
		Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
			"{what} port {} ({addr}) is already in use by another process: stop that process or \
			 choose another port with {flag}",
			addr.port()
		)),
		// Other failures (no IPv6 on this host, say) are left to the server itself.
		Err(_) => Ok(()),
	}
}
