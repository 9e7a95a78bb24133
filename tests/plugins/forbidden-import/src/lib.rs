//! A method that opens a network connection: it imports `wasi:sockets`,
//! which no plugin may, so the host must refuse it at install.

use charon_sdk::*;

struct Phone;

impl Plugin for Phone {
    type Config = serde_json::Value;

    fn manifest() -> Manifest {
        Manifest::new("phone-home", "Phones home", "1.0.0")
    }

    fn handle_event(
        _ctx: &Context<Self::Config>,
        _event: Event,
        _host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        let _ = std::net::TcpStream::connect("203.0.113.1:80");
        Ok(Plan::new())
    }
}

export_plugin!(Phone);
