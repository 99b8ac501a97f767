//! The vendor catalog: static profiles of the models the simulated fleet is made of.
//!
//! Data only. OUIs are the vendors' registered prefixes (medical devices use
//! their embedded module maker's), DHCP parameter lists follow each OS's
//! client, host names follow each vendor's default naming.

mod home;
mod work;

pub use home::*;
pub use work::*;

use super::{DeviceClass, DiscoveryProfile, VendorProfile};

/// Devices that announce nothing.
const NO_DISCOVERY: DiscoveryProfile = DiscoveryProfile {
    ssdp_server: None,
    mdns_service: None,
    period_s: 0.0,
};
/// BusyBox udhcpc's parameter request list.
const UDHCP: &[u8] = &[1, 3, 6, 12, 15, 28, 42];
/// dhcpcd's parameter request list.
const DHCPCD: &[u8] = &[1, 121, 33, 3, 6, 12, 15, 26, 28, 51, 54, 58, 59, 119];
/// lwIP's parameter request list.
const LWIP: &[u8] = &[1, 3, 28, 6];

static CAMERAS: [&VendorProfile; 2] = [&HIKVISION_CAMERA, &AXIS_CAMERA];
static PLUGS: [&VendorProfile; 2] = [&SHELLY_PLUG, &KASA_PLUG];
static THERMOSTATS: [&VendorProfile; 2] = [&NEST_THERMOSTAT, &ECOBEE_THERMOSTAT];
static VOICE: [&VendorProfile; 2] = [&ECHO_DOT, &NEST_MINI];
static HUBS: [&VendorProfile; 2] = [&HUE_BRIDGE, &ZIGBEE_BRIDGE];
static PLCS: [&VendorProfile; 2] = [&SIEMENS_PLC, &SCHNEIDER_PLC];
static PUMPS: [&VendorProfile; 2] = [&ALARIS_PUMP, &SPECTRUM_PUMP];
static PRINTERS: [&VendorProfile; 2] = [&HP_PRINTER, &BROTHER_PRINTER];
static LAPTOPS: [&VendorProfile; 2] = [&WINDOWS_LAPTOP, &MACBOOK];
static PHONES: [&VendorProfile; 2] = [&IPHONE, &GALAXY];
static ROGUES: [&VendorProfile; 1] = [&ROGUE];

/// The vendor profiles available for a class.
pub fn vendors(class: DeviceClass) -> &'static [&'static VendorProfile] {
    match class {
        DeviceClass::IpCamera => &CAMERAS,
        DeviceClass::SmartPlug => &PLUGS,
        DeviceClass::Thermostat => &THERMOSTATS,
        DeviceClass::VoiceAssistant => &VOICE,
        DeviceClass::Hub => &HUBS,
        DeviceClass::Plc => &PLCS,
        DeviceClass::InfusionPump => &PUMPS,
        DeviceClass::Printer => &PRINTERS,
        DeviceClass::Laptop => &LAPTOPS,
        DeviceClass::Phone => &PHONES,
        _ => &ROGUES,
    }
}
