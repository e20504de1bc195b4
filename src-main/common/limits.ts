/** Limits on everything; names end in their unit. Defaults follow ZooKeeper's. */
export const limits = {
  /** jute.maxbuffer: frames longer than this close the connection. */
  packetBytesMax: 0xfffff,
  /** Largest znode data accepted, as ZooKeeper (data + path + overhead must fit the packet). */
  dataBytesMax: 1024 * 1024,
  outstandingRequestsPerConnectionMax: 1000,
  maxClientCnxnsDefault: 60,
  traceEventsRetainedMax: 20_000,
  watchesPerSessionMax: 100_000,
} as const;
