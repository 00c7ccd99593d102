//! The discrete-event engine: simulated time, a deterministic event queue and per-component
//! random streams. It knows nothing of networks; `model` gives it a closed event enum.

pub mod queue;
pub mod rng;

pub use queue::EventQueue;
pub use rng::RngStreams;
