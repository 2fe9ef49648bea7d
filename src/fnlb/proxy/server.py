"""STUB (the data-path work replaces this): the ProxyServer contract used by fnlb.app.

ProxyServer(dispatcher, cfg, mgmt):
  async start()                 bind --listen and --mgmt-listen (one listener when equal)
  traffic_address, mgmt_address (host, port) actually bound (port 0 = ephemeral)
  async shutdown(timeout)       stop accepting, finish in-flight (timeout 0 = wait for all)
"""
