package io.raftkv.mvcc;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Apply and read throughput of {@link RocksDbKvStore} (JMH; not run by {@code mvn test}). Run with
 * {@code java -cp <test classpath> org.openjdk.jmh.Main KvStoreBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class KvStoreBenchmark {

  private Path dir;
  private RocksDbKvStore store;
  private long index;
  private long counter;
  private final Bytes value = Bytes.of(new byte[256]);

  /** Opens a store with 10,000 keys. */
  @Setup(Level.Trial)
  public void open() throws Exception {
    dir = TempDirs.create("mvcc-bench");
    store = RocksDbKvStore.open(dir);
    for (int i = 0; i < 10_000; i++) {
      store.put(++index, PutRequest.of(key(i), value));
    }
  }

  /** Closes and deletes the store. */
  @TearDown(Level.Trial)
  public void close() {
    store.close();
    TempDirs.delete(dir);
  }

  private static Bytes key(long i) {
    return Bytes.of(String.format("key/%08d", i));
  }

  /** One put of a 256-byte value over existing keys. */
  @Benchmark
  public PutResponse put() {
    return store.put(++index, PutRequest.of(key(counter++ % 10_000), value));
  }

  /** One single-key read at the current revision. */
  @Benchmark
  public RangeResponse getOneKey() {
    return store.range(RangeRequest.key(key(counter++ % 10_000)));
  }

  /** One 100-key range read with limit. */
  @Benchmark
  public RangeResponse range100() {
    long start = counter++ % 9_900;
    return store.range(RangeRequest.range(key(start), key(start + 100)));
  }
}
