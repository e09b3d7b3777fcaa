//! nimbus-testkit
