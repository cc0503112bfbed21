//! The in-process transport (`pcmoe_hub`).

use crate::error::{check, Result};
use crate::party::Party;
use crate::sys;
use std::ptr::{self, NonNull};

/// Delivers messages between the parties of one process, each party with
/// its own inbox thread.
pub struct Hub {
    raw: NonNull<sys::pcmoe_hub>,
}

// SAFETY: the header declares pcmoe_hub_create, pcmoe_hub_attach and
// pcmoe_hub_destroy thread-safe, and a hub belongs to no thread.
unsafe impl Send for Hub {}
unsafe impl Sync for Hub {}

impl Hub {
    /// Creates a hub for parties 0 ... party_count - 1 (`pcmoe_hub_create`).
    pub fn create(party_count: u32) -> Result<Hub> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::pcmoe_hub_create(party_count, &mut raw) })?;
        Ok(Hub { raw: NonNull::new(raw).expect("pcmoe returned PCMOE_OK and a NULL hub") })
    }

    /// Makes the hub carry `party`'s messages, replacing its transport
    /// (`pcmoe_hub_attach`). Attach every party before any of them joins.
    /// The hub refers to the party without owning it: either may be dropped first.
    pub fn attach(&self, party: &mut Party) -> Result<()> {
        check(unsafe { sys::pcmoe_hub_attach(self.raw.as_ptr(), party.raw()) })?;
        party.replace_transport(None);
        Ok(())
    }
}

impl Drop for Hub {
    /// Releases this reference; attached parties keep using the hub until
    /// they are destroyed.
    fn drop(&mut self) {
        unsafe { sys::pcmoe_hub_destroy(self.raw.as_ptr()) }
    }
}
