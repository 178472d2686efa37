"""The simulated Windows fleet: real WS-Management/WinRS in front of a deterministic host model."""
