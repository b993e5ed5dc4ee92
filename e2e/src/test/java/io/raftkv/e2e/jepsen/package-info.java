/**
 * A Jepsen-style harness: real raftkv (or etcd 3.4) processes, each in its own network namespace
 * behind a bridge the run creates ({@link io.raftkv.e2e.jepsen.Net}), a nemesis that follows a
 * seeded, printed {@link io.raftkv.e2e.jepsen.Schedule} of faults (kill -9, SIGSTOP, partitions,
 * membership changes), workloads through jetcd whose histories are checked (registers for
 * linearizability by {@code io.raftkv.lincheck}, durability of acknowledged writes), and a report
 * per run under {@code e2e/target/jepsen/}.
 *
 * <p>Contract: a run removes everything it created (processes, namespaces, nftables rules, data
 * directories) when it ends, normally, by exception, or by JVM shutdown; namespaces of a crashed
 * earlier run are removed by prefix at the next start. A verdict is PASS only when the checker
 * decided the history (UNKNOWN fails the battery: an undecided check proves nothing).
 */
package io.raftkv.e2e.jepsen;
