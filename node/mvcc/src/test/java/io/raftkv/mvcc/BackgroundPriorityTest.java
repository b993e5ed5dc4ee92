package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RocksDB's compaction threads run at the lowest CPU priority (nice 19), so that on a machine
 * with fewer cores than busy threads they take the cores the applier, the log and the network
 * leave idle, instead of preempting them. Linux only: reads the threads' nice values from /proc.
 */
class BackgroundPriorityTest {

  private static final Path TASKS = Path.of("/proc/self/task");

  @TempDir Path dir;

  @Test
  void compactionThreadsRunAtNice19() throws Exception {
    assumeTrue(Files.isDirectory(TASKS), "needs Linux /proc");
    try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
      // Five flushes of overlapping keys leave five level-0 files: over the trigger of four, so
      // RocksDB schedules a compaction, and a compaction thread lowers itself when it takes it.
      long index = 0;
      for (int flush = 0; flush < 5; flush++) {
        for (int k = 0; k < 200; k++) {
          store.put(++index, PutRequest.of(Bytes.of("key-" + k), Bytes.of("value-" + flush), 0));
        }
        store.sync();
      }
      Map<String, Integer> niceByThread = Map.of();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (System.nanoTime() < deadline) {
        niceByThread = compactionThreadNices();
        if (!niceByThread.isEmpty() && niceByThread.values().stream().allMatch(n -> n == 19)) {
          break;
        }
        Thread.sleep(50);
      }
      assertThat(niceByThread).as("nice of each rocksdb:low thread").isNotEmpty()
          .allSatisfy((thread, nice) -> assertThat(nice).as(thread).isEqualTo(19));
    }
  }

  /** Thread id to nice value of every thread of this process named {@code rocksdb:low}. */
  private static Map<String, Integer> compactionThreadNices() throws IOException {
    Map<String, Integer> out = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(TASKS)) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          if (!Files.readString(task.resolve("comm")).strip().equals("rocksdb:low")) {
            continue;
          }
          String stat = Files.readString(task.resolve("stat"));
          // Fields after the parenthesized name start at field 3 (state); nice is field 19.
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          out.put(task.getFileName().toString(), Integer.parseInt(fields[19 - 3]));
        } catch (NoSuchFileException gone) {
          // the thread ended while we looked
        }
      }
    }
    return out;
  }
}
