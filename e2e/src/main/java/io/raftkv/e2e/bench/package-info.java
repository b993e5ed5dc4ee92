/**
 * The {@code raftkv-bench} load tool: drives any etcd v3 endpoint (raftkv or etcd) through raw
 * gRPC stubs with put, range (linearizable or serializable), txn-put and watch fan-out loads,
 * and reports throughput and HdrHistogram latency percentiles.
 *
 * <p>Contract: the tool only measures; it never decides pass or fail on a number. It exits 0 when
 * the load ran, 2 on bad flags, 3 when the server answers UNIMPLEMENTED for the load's service
 * (the load is "unsupported" there), and 1 on any other failure to run the load. Every result is
 * also printed as one {@code RESULT key=value ...} line for scripts (see {@code e2e/bench/compare.sh}).
 */
package io.raftkv.e2e.bench;
