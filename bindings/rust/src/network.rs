//! The ZeroMQ transport with CURVE (`pcmoe_network`).

use crate::error::{check, Result};
use crate::party::Party;
use crate::results::NetworkCounters;
use crate::strings::c_path;
use crate::sys;
use std::mem::size_of;
use std::ops::BitOr;
use std::path::Path;
use std::ptr::{self, NonNull};

/// Flags of `Network::create` (`pcmoe_network_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NetworkFlags(pub u32);

impl NetworkFlags {
    /// CURVE on: encrypted and authenticated traffic.
    pub const NONE: NetworkFlags = NetworkFlags(0);
    /// INSECURE: turns CURVE off, so anyone who reaches a party's port can
    /// read its traffic and pose as any party. For debugging on a trusted host.
    pub const INSECURE_PLAIN_TCP: NetworkFlags = NetworkFlags(sys::PCMOE_NETWORK_INSECURE_PLAIN_TCP as u32);
}

impl BitOr for NetworkFlags {
    type Output = NetworkFlags;

    fn bitor(self, other: NetworkFlags) -> NetworkFlags {
        NetworkFlags(self.0 | other.0)
    }
}

/// One party's ZeroMQ transport to the other parties of its deployment.
pub struct Network {
    raw: NonNull<sys::pcmoe_network>,
}

// SAFETY: pcmoe_network_stats is thread-safe, pcmoe_network_destroy may
// run while the party's session runs on another thread, and a network
// belongs to no thread.
unsafe impl Send for Network {}
unsafe impl Sync for Network {}

impl Network {
    /// Connects `party` to the parties of a deployment file, with this
    /// party's key pair file (`pcmoe_network_create`), replacing its
    /// transport. The network refers to the party without keeping it alive:
    /// either may be dropped first. Dropping the network first leaves the
    /// party without a transport.
    pub fn create(
        party: &mut Party,
        deployment: impl AsRef<Path>,
        key: impl AsRef<Path>,
        flags: NetworkFlags,
    ) -> Result<Network> {
        let deployment = c_path(deployment.as_ref())?;
        let key = c_path(key.as_ref())?;
        let mut raw = ptr::null_mut();
        let status =
            unsafe { sys::pcmoe_network_create(party.raw(), deployment.as_ptr(), key.as_ptr(), flags.0, &mut raw) };
        check(status)?;
        party.replace_transport(None);
        Ok(Network { raw: NonNull::new(raw).expect("pcmoe returned PCMOE_OK and a NULL network") })
    }

    /// Returns the network's counters (`pcmoe_network_stats`).
    pub fn stats(&self) -> Result<NetworkCounters> {
        let mut raw = sys::pcmoe_network_counters::default();
        let size = size_of::<sys::pcmoe_network_counters>();
        check(unsafe { sys::pcmoe_network_stats(self.raw.as_ptr(), &mut raw, size) })?;
        Ok(NetworkCounters::from(raw))
    }
}

impl Drop for Network {
    /// Stops the network: replies already queued get up to two seconds to
    /// leave, and its threads and sockets end.
    fn drop(&mut self) {
        unsafe { sys::pcmoe_network_destroy(self.raw.as_ptr()) }
    }
}
