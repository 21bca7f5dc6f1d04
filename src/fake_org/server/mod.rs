//! The fake org's HTTP server: OAuth, REST routes, query locators, composite, counters, faults.
