package io.raftkv.mvcc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Priority;
import org.rocksdb.ReadOptions;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * {@link KvStore} on RocksDB. Every version of every key is a row keyed by key then descending
 * revision (see {@link Codec}); reads at a revision seek to the newest row at or below it, under
 * a RocksDB snapshot so that a read sees one revision while the applier writes.
 *
 * <p>Threads: see {@link KvStore}. In addition one background thread reclaims compacted history
 * in batches of {@link MvccOptions#compactionBatchSize()} deletions; it only ever deletes rows no
 * read at or above the compacted revision can see, so neither reads nor writes wait for it.
 *
 * <p>Quota: the NOSPACE alarm must be raised and cleared at the same log entry on every replica,
 * or a put refused on one replica and applied on another would fork their histories. RocksDB's
 * own size figures depend on flush and compaction timing, so the quota is checked against
 * {@link #historyBytes()} instead: the bytes of every version a reader could still see (key and
 * value bytes plus 32 per version), kept in the same atomic batch as the data. A write adds its
 * versions; each superseded version is booked, in the meta family, under the first compaction
 * revision that frees it; applying a compaction subtracts what it frees, at once, while the
 * physical deletion runs in the background. The alarm is re-evaluated after every apply and,
 * unlike etcd's, clears by itself once a compaction brings the figure back within the quota.
 * {@link #dbSizeBytes()} still reports RocksDB's physical estimate, for metrics.
 */
public final class RocksDbKvStore implements KvStore {

  static {
    RocksDB.loadLibrary();
  }

  private static final int RESULT_CACHE_SIZE = 4096;
  /**
   * RocksDB's block cache. Hot keys are served from the memtables and the applier's cache of live
   * versions, and SST blocks from the OS page cache; a small cache keeps the resident set small.
   */
  private static final long BLOCK_CACHE_BYTES = 8L * 1024 * 1024;
  private static final int META = 0;
  private static final int KV = 1;
  private static final int REV = 2;
  private static final int LEASE = 3;
  private static final int LEASE_KEY = 4;
  private static final List<byte[]> FAMILIES = List.of(
      RocksDB.DEFAULT_COLUMN_FAMILY, Codec.ascii("kv"), Codec.ascii("rev"), Codec.ascii("lease"),
      Codec.ascii("leasekey"));
  private static final byte[] NOTHING = new byte[0];

  private final Path dir;
  private final MvccOptions options;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  /** One block cache for every family (RocksDB would otherwise create 32 MiB of its own). */
  private final LRUCache blockCache;
  /** Bloom filters in SST files, for the applier's point lookups of live versions. */
  private final BloomFilter bloomFilter;
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  private final RocksDB db;
  private final ColumnFamilyHandle metaCf;
  private final ColumnFamilyHandle kvCf;
  private final ColumnFamilyHandle revCf;
  private final ColumnFamilyHandle leaseCf;
  private final ColumnFamilyHandle leaseKeyCf;
  private final WriteOptions writeOptions;
  private final ExecutorService compactor;
  private final ConcurrentSkipListMap<Long, Lease> leases = new ConcurrentSkipListMap<>();
  private final List<RevisionListener> listeners = new CopyOnWriteArrayList<>();
  private final Map<Long, Object> recentResults = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Object> eldest) {
      return size() > RESULT_CACHE_SIZE;
    }
  };

  /**
   * Applier only: the batch of the apply in progress, one for the store's life (cleared, not
   * rebuilt, per apply: its maps, native write batch and read options would otherwise be
   * garbage or native churn per entry).
   */
  private final Batch applyBatch;
  /** Applier only: an apply is in progress (the batch is not re-entrant). */
  private boolean applying;

  /** Applier only: the live versions of recently used keys. */
  private final LatestVersions latest;
  /**
   * Applier only: the bytes booked in the meta family under revision currentRevision + 1 (by the
   * tombstones of the current revision). No revision above that has anything booked yet, so a
   * write needs no read of its bookkeeping rows.
   */
  private long bookedAtNextRevision;

  private volatile long appliedIndex;
  private volatile long historyBytes;
  private volatile long currentRevision;
  private volatile long compactRevision;
  private volatile boolean noSpace;
  private volatile boolean closed;
  private volatile Throwable compactionFailure;

  private RocksDbKvStore(Path dir, MvccOptions options) throws RocksDBException, IOException {
    this.dir = dir;
    this.options = options;
    this.latest = new LatestVersions(options.latestVersionsBytes());
    Files.createDirectories(dir);
    // Without syncWrites the store writes no RocksDB WAL: the Raft log is the write-ahead log.
    // Memtables then reach disk only by flushes, which must cover every family at once so that
    // the appliedIndex a restart finds describes the data beside it (atomic flush).
    dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
        .setKeepLogFileNum(2)
        .setMaxBackgroundJobs(2)
        // Flushes and compactions sync their output every MiB as they write it, instead of
        // leaving tens of MiB dirty for one final fsync that the Raft log's fdatasync on the same
        // disk would queue behind.
        .setBytesPerSync(1L << 20)
        .setAtomicFlush(!options.syncWrites());
    // Compactions (RocksDB's low-priority pool; flushes have their own) run at nice 19: on a
    // machine with fewer cores than busy threads they use what the applier, the log's fsync and
    // the network leave idle instead of preempting them. Debt they leave under a sustained
    // overload is bounded by RocksDB's level-0 slowdown and stop triggers. The pool is the
    // process's, shared by every store; setting it again is harmless.
    Env.getDefault().lowerThreadPoolCPUPriority(Priority.LOW);
    blockCache = new LRUCache(BLOCK_CACHE_BYTES);
    bloomFilter = new BloomFilter(10, false);
    // No compression but in the bottommost level (LZ4), where most data of a long-lived store
    // lives: Snappy on every flush and compaction was over half of RocksDB's background CPU under
    // put load, taken from the same two cores as the foreground (etcd's bbolt compresses nothing).
    cfOptions = new ColumnFamilyOptions().setWriteBufferSize(options.writeBufferBytes())
        .setCompressionType(CompressionType.NO_COMPRESSION)
        .setBottommostCompressionType(CompressionType.LZ4_COMPRESSION)
        .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache)
            .setFilterPolicy(bloomFilter));
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (byte[] name : FAMILIES) {
      descriptors.add(new ColumnFamilyDescriptor(name, cfOptions));
    }
    try {
      db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    } catch (RocksDBException e) {
      cfOptions.close();
      blockCache.close();
      bloomFilter.close();
      dbOptions.close();
      throw e;
    }
    metaCf = handles.get(META);
    kvCf = handles.get(KV);
    revCf = handles.get(REV);
    leaseCf = handles.get(LEASE);
    leaseKeyCf = handles.get(LEASE_KEY);
    writeOptions = new WriteOptions().setSync(options.syncWrites()).setDisableWAL(!options.syncWrites());
    long finished;
    try {
      long[] state = readState(null);
      appliedIndex = state[0];
      currentRevision = state[1];
      historyBytes = state[2];
      compactRevision = readMeta(Codec.META_COMPACT_REVISION, 0);
      finished = readMeta(Codec.META_FINISHED_COMPACT_REVISION, 0);
      bookedAtNextRevision = readMeta(Codec.freeKey(currentRevision + 1), 0);
      try (RocksIterator it = db.newIterator(leaseCf)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          long id = Codec.getLong(it.key(), 0);
          byte[] v = it.value();
          leases.put(id, new Lease(id, Codec.getLong(v, 0), Codec.getLong(v, 8)));
        }
        it.status();
      }
    } catch (RocksDBException | RuntimeException e) {
      closeRocksDb();
      throw e;
    }
    applyBatch = new Batch();
    compactor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "mvcc-compactor-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
    if (compactRevision > finished) {
      scheduleCompaction(compactRevision);
    }
    updateAlarm();
  }

  /**
   * Opens (or creates) the store in {@code dir}; a pending background compaction resumes. The
   * caller owns the store and must {@link #close()} it.
   */
  public static RocksDbKvStore open(Path dir, MvccOptions options) {
    try {
      return new RocksDbKvStore(dir, options);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot open RocksDB in " + dir + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Opens (or creates) the store in {@code dir} with {@link MvccOptions#defaults()}. */
  public static RocksDbKvStore open(Path dir) {
    return open(dir, MvccOptions.defaults());
  }

  /**
   * Creates a store in the empty (or missing) directory {@code dir} from a stream written by
   * {@link #snapshot(OutputStream)}, verifying every chunk, and opens it. On a bad stream it fails
   * with the offset of the bad chunk and leaves a partial directory the caller should delete.
   */
  public static RocksDbKvStore restore(InputStream in, Path dir, MvccOptions options)
      throws IOException {
    if (Files.isDirectory(dir)) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException("restore target is not empty: " + dir);
        }
      }
    }
    try (RocksDbKvStore fresh = open(dir, options);
        WriteBatch batch = new WriteBatch()) {
      SnapshotFormat.read(in, (family, key, value) -> {
        if (family >= FAMILIES.size()) {
          throw new IOException("snapshot corrupt: unknown column family " + family);
        }
        try {
          batch.put(fresh.handles.get(family), key, value);
          if (batch.count() >= 1000) {
            fresh.db.write(fresh.writeOptions, batch);
            batch.clear();
          }
        } catch (RocksDBException e) {
          throw new IOException("restore write failed in " + dir, e);
        }
      });
      fresh.db.write(fresh.writeOptions, batch);
      try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
        fresh.db.flush(flush, fresh.handles);
      }
    } catch (RocksDBException e) {
      throw new IOException("restore write failed in " + dir, e);
    }
    return open(dir, options);
  }

  /**
   * Like {@link #restore(InputStream, Path, MvccOptions)}, for seeding a new cluster whose Raft log
   * starts over at index 1 (etcd's {@code snapshot restore}): keys, revisions, history and leases
   * are kept; the applied Raft index is reset to 0 so that the new log's entries apply. Every
   * member of the new cluster must be restored from the same stream.
   */
  public static RocksDbKvStore restoreForNewCluster(InputStream in, Path dir, MvccOptions options)
      throws IOException {
    try (RocksDbKvStore restored = restore(in, dir, options)) {
      restored.db.put(restored.metaCf, restored.writeOptions, Codec.META_STATE,
          Codec.state(0, restored.currentRevision, restored.historyBytes));
    } catch (RocksDBException e) {
      throw new IOException("restore write failed in " + dir, e);
    }
    return open(dir, options);
  }

  /**
   * {appliedIndex, revision, historyBytes} from the state row, or from the rows of a store written
   * before it existed; under {@code readOptions} when not null.
   */
  private long[] readState(ReadOptions readOptions) throws RocksDBException {
    byte[] state = readOptions == null ? db.get(metaCf, Codec.META_STATE)
        : db.get(metaCf, readOptions, Codec.META_STATE);
    if (state != null) {
      return new long[] {Codec.getLong(state, 0), Codec.getLong(state, 8), Codec.getLong(state, 16)};
    }
    long[] legacy = new long[3];
    byte[][] keys = {Codec.META_APPLIED_INDEX, Codec.META_REVISION, Codec.META_HISTORY_BYTES};
    long[] missing = {0, 1, 0};
    for (int i = 0; i < 3; i++) {
      byte[] v = readOptions == null ? db.get(metaCf, keys[i]) : db.get(metaCf, readOptions, keys[i]);
      legacy[i] = v == null ? missing[i] : Codec.getLong(v, 0);
    }
    return legacy;
  }

  /** One row by its exact key (a point lookup: memtables, then bloom-filtered SST files). */
  private byte[] getRow(ColumnFamilyHandle cf, byte[] key) {
    try {
      return db.get(cf, key);
    } catch (RocksDBException e) {
      throw new IllegalStateException("RocksDB read failed in " + dir + ": " + e.getMessage(), e);
    }
  }

  private long readMeta(byte[] key, long missing) throws RocksDBException {
    byte[] v = db.get(metaCf, key);
    return v == null ? missing : Codec.getLong(v, 0);
  }

  // ---------------------------------------------------------------- reads

  @Override
  public long appliedIndex() {
    return appliedIndex;
  }

  @Override
  public long currentRevision() {
    return currentRevision;
  }

  @Override
  public long compactRevision() {
    return compactRevision;
  }

  @Override
  public RangeResponse range(RangeRequest request) {
    ensureOpen();
    Requests.checkRange(request);
    while (true) {
      long current = currentRevision;
      try (View view = new View(true)) {
        long compacted = compactRevision;
        if (request.revision() <= 0 && current < compacted) {
          continue;
        }
        long readRev = readRevision(request.revision(), current, compacted);
        return rangeAt(request, readRev, current, view::scan);
      }
    }
  }

  /**
   * etcd mvcc rangeKeys: future first, then 0 means current, then compacted. Readers take the
   * current revision, then a RocksDB snapshot (which holds at least that revision), then the
   * compacted revision (so no reclamation that could hurt the read has started); a read of "the
   * current revision" that a concurrent compaction overtook simply retries.
   */
  private static long readRevision(long requested, long current, long compacted) {
    if (requested > current) {
      throw new MvccException(MvccException.Code.FUTURE_REV);
    }
    long rev = requested <= 0 ? current : requested;
    if (rev < compacted) {
      throw new MvccException(MvccException.Code.COMPACTED);
    }
    return rev;
  }

  /** Visits the live keys of a range at a revision in key order. */
  private interface Scanner {
    void scan(Bytes key, Bytes rangeEnd, long rev, Consumer<KeyValue> sink);
  }

  /** etcd's Range apply: fetch (limit + 1 when it can), prune, sort, cut, strip. */
  private static RangeResponse rangeAt(RangeRequest r, long readRev, long headerRev, Scanner s) {
    boolean filtered = r.minModRevision() != 0 || r.maxModRevision() != 0
        || r.minCreateRevision() != 0 || r.maxCreateRevision() != 0;
    long fetch = r.sortOrder() != RangeRequest.SortOrder.NONE || filtered ? 0 : r.limit();
    long fetchLimit = fetch > 0 ? fetch + 1 : 0;
    List<KeyValue> kvs = new ArrayList<>();
    long[] count = {0};
    s.scan(r.key(), r.rangeEnd(), readRev, kv -> {
      count[0]++;
      if (!r.countOnly() && (fetchLimit <= 0 || kvs.size() < fetchLimit)) {
        kvs.add(kv);
      }
    });
    if (r.countOnly()) {
      return new RangeResponse(headerRev, List.of(), false, count[0]);
    }
    if (filtered) {
      kvs.removeIf(kv -> (r.maxModRevision() != 0 && kv.modRevision() > r.maxModRevision())
          || (r.minModRevision() != 0 && kv.modRevision() < r.minModRevision())
          || (r.maxCreateRevision() != 0 && kv.createRevision() > r.maxCreateRevision())
          || (r.minCreateRevision() != 0 && kv.createRevision() < r.minCreateRevision()));
    }
    sort(kvs, r.sortOrder(), r.sortTarget());
    boolean more = false;
    List<KeyValue> out = kvs;
    if (r.limit() > 0 && kvs.size() > r.limit()) {
      out = kvs.subList(0, (int) r.limit());
      more = true;
    }
    if (r.keysOnly()) {
      out = out.stream().map(KeyValue::withoutValue).toList();
    }
    return new RangeResponse(headerRev, out, more, count[0]);
  }

  /**
   * etcd: results come in key order; a non-KEY target with order NONE sorts ascending. Sorting is
   * stable, so ties stay in key order (etcd leaves tie order unspecified).
   */
  static void sort(List<KeyValue> kvs, RangeRequest.SortOrder order,
      RangeRequest.SortTarget target) {
    if (order == RangeRequest.SortOrder.NONE && target != RangeRequest.SortTarget.KEY) {
      order = RangeRequest.SortOrder.ASCEND;
    }
    if (order == RangeRequest.SortOrder.NONE
        || (order == RangeRequest.SortOrder.ASCEND && target == RangeRequest.SortTarget.KEY)) {
      return;
    }
    Comparator<KeyValue> c = switch (target) {
      case KEY -> Comparator.comparing(KeyValue::key);
      case VERSION -> Comparator.comparingLong(KeyValue::version);
      case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
      case MOD -> Comparator.comparingLong(KeyValue::modRevision);
      case VALUE -> Comparator.comparing(KeyValue::value);
    };
    kvs.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
  }

  @Override
  public List<Lease> leases() {
    return List.copyOf(leases.values());
  }

  @Override
  public LeaseTimeToLive leaseTimeToLive(long id, boolean withKeys) {
    ensureOpen();
    Lease lease = leases.get(id);
    if (lease == null) {
      throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
    }
    if (!withKeys) {
      return new LeaseTimeToLive(lease, List.of());
    }
    List<Bytes> keys = new ArrayList<>();
    for (byte[] k : attachedKeys(id)) {
      keys.add(Bytes.wrap(k));
    }
    return new LeaseTimeToLive(lease, keys);
  }

  private List<byte[]> attachedKeys(long id) {
    List<byte[]> keys = new ArrayList<>();
    byte[] prefix = Codec.leaseKey(id);
    try (RocksIterator it = db.newIterator(leaseKeyCf)) {
      for (it.seek(prefix); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (k.length < 8 || !Arrays.equals(k, 0, 8, prefix, 0, 8)) {
          break;
        }
        keys.add(Arrays.copyOfRange(k, 8, k.length));
      }
      checkStatus(it);
    }
    return keys;
  }

  @Override
  public Set<Alarm> alarms() {
    return noSpace ? EnumSet.of(Alarm.NOSPACE) : EnumSet.noneOf(Alarm.class);
  }

  @Override
  public long dbSizeBytes() {
    ensureOpen();
    try {
      return db.getAggregatedLongProperty("rocksdb.total-sst-files-size")
          + db.getAggregatedLongProperty("rocksdb.cur-size-all-mem-tables");
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot read RocksDB size of " + dir, e);
    }
  }

  @Override
  public long historyBytes() {
    return historyBytes;
  }

  private void updateAlarm() {
    noSpace = historyBytes > options.quotaBytes();
  }

  @Override
  public HashKvResult hash(long revision) {
    ensureOpen();
    while (true) {
      long current = currentRevision;
      try (View view = new View(true);
          RocksIterator it = db.newIterator(kvCf, view.readOptions)) {
        long compacted = compactRevision;
        if (revision <= 0 && current < compacted) {
          continue;
        }
        long rev = readRevision(revision, current, compacted);
        CRC32C crc = new CRC32C();
        byte[] key = null;
        boolean keptSeen = false;
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          if (key == null || !Codec.sameKey(k, key)) {
            key = Codec.encodedKeyOf(k);
            keptSeen = false;
          }
          long r = Codec.revisionOf(k);
          if (r > rev) {
            continue;
          }
          if (r > compacted) {
            crc.update(k);
            crc.update(it.value());
          } else if (!keptSeen) {
            keptSeen = true;
            byte[] v = it.value();
            if (!Codec.isTombstone(v)) {
              crc.update(k);
              crc.update(v);
            }
          }
        }
        checkStatus(it);
        return new HashKvResult(crc.getValue(), rev, compacted);
      }
    }
  }

  @Override
  public List<Event> events(long fromRevision, long toRevision) {
    ensureOpen();
    long current = currentRevision;
    try (View view = new View(true);
        RocksIterator revs = db.newIterator(revCf, view.readOptions);
        RocksIterator kvs = db.newIterator(kvCf, view.readOptions)) {
      long compacted = compactRevision;
      if (fromRevision < compacted) {
        throw new MvccException(MvccException.Code.COMPACTED);
      }
      long to = Math.min(toRevision, current);
      List<Event> events = new ArrayList<>();
      for (revs.seek(Codec.revKey(Math.max(fromRevision, 0), 0)); revs.isValid(); revs.next()) {
        long main = Codec.getLong(revs.key(), 0);
        if (main > to) {
          break;
        }
        byte[] userKey = revs.value();
        long sub = Codec.getLong(revs.key(), 8);
        byte[] wanted = Codec.kvKey(Codec.encodeKey(userKey), main, sub);
        kvs.seek(wanted);
        if (!kvs.isValid() || !Arrays.equals(kvs.key(), wanted)) {
          throw new IllegalStateException("corrupt history in " + dir + ": revision " + main
              + " indexes key " + Bytes.wrap(userKey) + " but the version is missing");
        }
        byte[] record = kvs.value();
        KeyValue kv = Codec.isTombstone(record)
            ? new KeyValue(Bytes.wrap(userKey), 0, main, 0, Bytes.EMPTY, 0)
            : Codec.decode(userKey, main, record);
        Optional<KeyValue> prev = Optional.empty();
        if (main > compacted) {
          kvs.next();
          if (kvs.isValid() && Codec.sameKey(kvs.key(), Codec.encodedKeyOf(wanted))) {
            byte[] p = kvs.value();
            if (!Codec.isTombstone(p)) {
              prev = Optional.of(Codec.decode(userKey, Codec.revisionOf(kvs.key()), p));
            }
          }
        }
        events.add(new Event(
            Codec.isTombstone(record) ? Event.Type.DELETE : Event.Type.PUT, kv, prev));
      }
      checkStatus(revs);
      return events;
    }
  }

  @Override
  public void addRevisionListener(RevisionListener listener) {
    listeners.add(listener);
  }

  @Override
  public SnapshotInfo snapshot(OutputStream out) throws IOException {
    ensureOpen();
    try (View view = new View(true)) {
      SnapshotFormat.Writer writer = new SnapshotFormat.Writer(out);
      for (int family = 0; family < handles.size(); family++) {
        try (RocksIterator it = db.newIterator(handles.get(family), view.readOptions)) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            writer.entry(family, it.key(), it.value());
          }
          checkStatus(it);
        }
      }
      long bytes = writer.finish();
      long[] state = readState(view.readOptions);
      return new SnapshotInfo(state[0], state[1], bytes);
    } catch (RocksDBException e) {
      throw new IOException("snapshot read failed in " + dir, e);
    }
  }

  // ---------------------------------------------------------------- writes

  @Override
  public PutResponse put(long raftIndex, PutRequest request) {
    return apply(raftIndex, PutResponse.class,
        () -> new PutResponse(currentRevision, Optional.empty()), b -> {
      Requests.checkPut(request);
      if (noSpace) {
        throw new MvccException(MvccException.Code.NO_SPACE);
      }
      checkPutState(b, request);
      return doPut(b, request);
    });
  }

  @Override
  public DeleteRangeResponse deleteRange(long raftIndex, DeleteRangeRequest request) {
    return apply(raftIndex, DeleteRangeResponse.class,
        () -> new DeleteRangeResponse(currentRevision, 0, List.of()), b -> {
      Requests.checkDelete(request);
      DeleteRangeResponse r = doDelete(b, request);
      return new DeleteRangeResponse(b.headerRevision(), r.deleted(), r.prevKvs());
    });
  }

  @Override
  public TxnResponse txn(long raftIndex, TxnRequest request) {
    return apply(raftIndex, TxnResponse.class,
        () -> new TxnResponse(currentRevision, false, List.of()), b -> {
      Requests.checkTxn(request);
      if (noSpace && Requests.hasPut(request)) {
        throw new MvccException(MvccException.Code.NO_SPACE);
      }
      Map<TxnRequest, Boolean> path = new IdentityHashMap<>();
      choosePath(b, request, path);
      checkPuts(b, request, path);
      checkRanges(request, path);
      TxnResponse r = doTxn(b, request, path);
      return (TxnResponse) withRevision(r, b.headerRevision());
    });
  }

  @Override
  public CompactResponse compact(long raftIndex, CompactRequest request) {
    long revision = request.revision();
    return apply(raftIndex, CompactResponse.class,
        () -> new CompactResponse(currentRevision, compactRevision), b -> {
      if (revision <= compactRevision) {
        throw new MvccException(MvccException.Code.COMPACTED);
      }
      if (revision > currentRevision) {
        throw new MvccException(MvccException.Code.FUTURE_REV);
      }
      b.put(metaCf, Codec.META_COMPACT_REVISION, Codec.longBytes(revision));
      try (RocksIterator it = db.newIterator(metaCf)) {
        for (it.seek(Codec.freeKey(compactRevision + 1)); it.isValid(); it.next()) {
          byte[] k = it.key();
          if (!Codec.isFreeKey(k) || Codec.freeRevisionOf(k) > revision) {
            break;
          }
          b.freedBytes += Codec.getLong(it.value(), 0);
          b.delete(metaCf, k);
        }
        checkStatus(it);
      }
      b.afterCommit(() -> {
        compactRevision = revision;
        scheduleCompaction(revision);
      });
      return new CompactResponse(currentRevision, revision);
    });
  }

  @Override
  public void sync() {
    try {
      if (options.syncWrites()) {
        db.flushWal(true);
      } else {
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
          db.flush(flush, handles);
        }
      }
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot make the store durable in " + dir, e);
    }
  }

  @Override
  public void startSync() {
    if (options.syncWrites()) {
      return; // every write is synced already
    }
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(false).setAllowWriteStall(true)) {
      db.flush(flush, handles);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot start a flush of " + dir, e);
    }
  }

  @Override
  public long durableIndex() {
    ensureOpen();
    if (options.syncWrites()) {
      return appliedIndex;
    }
    // With the WAL off, what a restart finds is what is in SST files: the persisted tier skips
    // the memtables.
    try (ReadOptions persisted = new ReadOptions().setReadTier(ReadTier.PERSISTED_TIER)) {
      return readState(persisted)[0];
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot read the flushed state of " + dir, e);
    }
  }

  @Override
  public void markApplied(long raftIndex) {
    apply(raftIndex, Object.class, () -> null, b -> null);
  }

  @Override
  public Lease leaseGrant(long raftIndex, long id, long ttlSeconds) {
    if (id <= 0) {
      throw new IllegalArgumentException("lease id must be positive: " + id);
    }
    return apply(raftIndex, Lease.class,
        () -> leases.getOrDefault(id, new Lease(id, ttlSeconds, ttlSeconds)),
        b -> {
          if (noSpace) {
            throw new MvccException(MvccException.Code.NO_SPACE);
          }
          if (leases.containsKey(id)) {
            throw new MvccException(MvccException.Code.LEASE_EXISTS);
          }
          Lease lease = new Lease(id, ttlSeconds, ttlSeconds);
          b.put(leaseCf, Codec.leaseKey(id), Codec.leaseValue(ttlSeconds, ttlSeconds));
          b.afterCommit(() -> leases.put(id, lease));
          return lease;
        });
  }

  @Override
  public LeaseRevokeResponse leaseRevoke(long raftIndex, long id) {
    return apply(raftIndex, LeaseRevokeResponse.class,
        () -> new LeaseRevokeResponse(currentRevision, 0), b -> {
      if (!leases.containsKey(id)) {
        throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
      }
      long deleted = 0;
      for (byte[] key : attachedKeys(id)) {
        KeyValue prev = b.current(Bytes.wrap(key));
        if (prev != null) {
          b.deleteKey(prev);
          deleted++;
        }
        b.delete(leaseKeyCf, Codec.leaseKeyEntry(id, key));
      }
      b.delete(leaseCf, Codec.leaseKey(id));
      b.afterCommit(() -> leases.remove(id));
      return new LeaseRevokeResponse(b.headerRevision(), deleted);
    });
  }

  @Override
  public Lease leaseCheckpoint(long raftIndex, long id, long remainingTtlSeconds) {
    return apply(raftIndex, Lease.class,
        () -> leases.getOrDefault(id, new Lease(id, 0, remainingTtlSeconds)),
        b -> {
          Lease old = leases.get(id);
          if (old == null) {
            throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
          }
          Lease lease = new Lease(id, old.ttlSeconds(), remainingTtlSeconds);
          b.put(leaseCf, Codec.leaseKey(id),
              Codec.leaseValue(old.ttlSeconds(), remainingTtlSeconds));
          b.afterCommit(() -> leases.put(id, lease));
          return lease;
        });
  }

  @Override
  public int leaseCheckpoints(long raftIndex, Map<Long, Long> remainingTtlSeconds) {
    Map<Long, Long> checkpoints = Map.copyOf(remainingTtlSeconds);
    return apply(raftIndex, Integer.class, () -> 0, b -> {
      int recorded = 0;
      for (Map.Entry<Long, Long> c : new TreeMap<>(checkpoints).entrySet()) {
        Lease old = leases.get(c.getKey());
        if (old == null) {
          continue;
        }
        Lease lease = new Lease(old.id(), old.ttlSeconds(), c.getValue());
        b.put(leaseCf, Codec.leaseKey(lease.id()),
            Codec.leaseValue(lease.ttlSeconds(), lease.remainingTtlSeconds()));
        b.afterCommit(() -> leases.put(lease.id(), lease));
        recorded++;
      }
      return recorded;
    });
  }

  /**
   * The exactly-once frame of every mutation: runs {@code body} against a batch, then writes its
   * effects (none if it threw {@link MvccException}) with the new appliedIndex atomically.
   */
  private <T> T apply(
      long raftIndex, Class<T> type, Supplier<T> stale, Function<Batch, T> body) {
    ensureOpen();
    Throwable failure = compactionFailure;
    if (failure != null) {
      throw new IllegalStateException("background compaction failed in " + dir, failure);
    }
    if (raftIndex <= appliedIndex) {
      Object recorded = recentResults.get(raftIndex);
      if (recorded instanceof MvccException e) {
        throw new MvccException(e.code());
      }
      return type.isInstance(recorded) ? type.cast(recorded) : stale.get();
    }
    if (applying) {
      throw new IllegalStateException("apply re-entered");
    }
    Batch b = applyBatch;
    b.reset();
    applying = true;
    try {
      T result = null;
      MvccException error = null;
      try {
        result = body.apply(b);
      } catch (MvccException e) {
        error = e;
        b.discard();
      }
      long newHistoryBytes = b.account();
      b.batch.put(metaCf, Codec.META_STATE, Codec.state(raftIndex,
          b.changed() ? b.newRevision : currentRevision, newHistoryBytes));
      db.write(writeOptions, b.batch);
      historyBytes = newHistoryBytes;
      if (b.changed()) {
        bookedAtNextRevision = b.frees.getOrDefault(b.newRevision + 1, 0L);
        for (Map.Entry<Bytes, Optional<KeyValue>> e : b.pending.entrySet()) {
          if (e.getValue().isPresent()) {
            latest.live(e.getValue().get(), b.pendingSub.get(e.getKey()));
          } else {
            latest.absent(e.getKey());
          }
        }
        currentRevision = b.newRevision;
      }
      appliedIndex = raftIndex;
      for (Runnable r : b.afterCommit) {
        r.run();
      }
      if (result != null || error != null) {
        recentResults.put(raftIndex, error != null ? error : result);
      }
      if (b.changed()) {
        List<Event> events = List.copyOf(b.events);
        for (RevisionListener l : listeners) {
          try {
            l.onRevision(b.newRevision, events);
          } catch (RuntimeException ignored) {
            // RevisionListener contract: must not throw; apply goes on regardless.
          }
        }
      }
      updateAlarm();
      if (error != null) {
        throw error;
      }
      return result;
    } catch (RocksDBException e) {
      throw new IllegalStateException(
          "RocksDB write of raft index " + raftIndex + " failed in " + dir, e);
    } finally {
      applying = false;
    }
  }

  /** etcd checkRequestPut: ignore flags need the key; a lease must exist. Pre-txn state. */
  private void checkPutState(Batch b, PutRequest p) {
    if ((p.ignoreValue() || p.ignoreLease()) && b.current(p.key()) == null) {
      throw new MvccException(MvccException.Code.KEY_NOT_FOUND);
    }
    if (!p.ignoreLease() && p.lease() != 0 && !leases.containsKey(p.lease())) {
      throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
    }
  }

  private PutResponse doPut(Batch b, PutRequest p) {
    if (!p.prevKv() && !p.ignoreValue() && !p.ignoreLease() && !prevValuesWanted()) {
      // etcd's put reads only its key index, not the previous value; so does this one when
      // nobody asks for the value (the cache usually knows the rest).
      b.putKey(p.key(), p.value(), p.lease(), b.prior(p.key()), null);
      return new PutResponse(b.newRevision, Optional.empty());
    }
    KeyValue prev = b.current(p.key());
    Bytes value = p.ignoreValue() ? prev.value() : p.value();
    long lease = p.ignoreLease() ? prev.lease() : p.lease();
    b.putKey(p.key(), value, lease, prev == null ? null : Prior.of(prev), prev);
    return new PutResponse(b.newRevision,
        p.prevKv() ? Optional.ofNullable(prev) : Optional.empty());
  }

  /** Whether a listener wants each put's event to carry the previous value (prevKv). */
  private boolean prevValuesWanted() {
    for (RevisionListener l : listeners) {
      if (l.wantsPrevValues()) {
        return true;
      }
    }
    return false;
  }

  private DeleteRangeResponse doDelete(Batch b, DeleteRangeRequest d) {
    List<KeyValue> victims = new ArrayList<>();
    b.scan(d.key(), d.rangeEnd(), b.readRevision(), victims::add);
    for (KeyValue kv : victims) {
      b.deleteKey(kv);
    }
    return new DeleteRangeResponse(0, victims.size(), d.prevKv() ? victims : List.of());
  }

  /** etcd compareToPath: every compare on the path is judged on the state before the txn. */
  private void choosePath(Batch b, TxnRequest t, Map<TxnRequest, Boolean> path) {
    boolean ok = true;
    for (Compare c : t.compare()) {
      if (!holds(b, c)) {
        ok = false;
        break;
      }
    }
    path.put(t, ok);
    for (RequestOp op : ok ? t.success() : t.failure()) {
      if (op instanceof TxnRequest n) {
        choosePath(b, n, path);
      }
    }
  }

  /** etcd applyCompare: all keys of the range must match; an empty range is a zero key. */
  private boolean holds(Batch b, Compare c) {
    List<KeyValue> kvs = new ArrayList<>();
    b.scan(c.key(), c.rangeEnd(), currentRevision, kvs::add);
    if (kvs.isEmpty()) {
      return c.matches(null);
    }
    for (KeyValue kv : kvs) {
      if (!c.matches(kv)) {
        return false;
      }
    }
    return true;
  }

  private void checkPuts(Batch b, TxnRequest t, Map<TxnRequest, Boolean> path) {
    for (RequestOp op : path.get(t) ? t.success() : t.failure()) {
      if (op instanceof PutRequest p) {
        checkPutState(b, p);
      } else if (op instanceof TxnRequest n) {
        checkPuts(b, n, path);
      }
    }
  }

  /** etcd checkRequestRange: explicit revisions must be in [compacted, current]. */
  private void checkRanges(TxnRequest t, Map<TxnRequest, Boolean> path) {
    for (RequestOp op : path.get(t) ? t.success() : t.failure()) {
      if (op instanceof RangeRequest r && r.revision() != 0) {
        if (r.revision() > currentRevision) {
          throw new MvccException(MvccException.Code.FUTURE_REV);
        }
        if (r.revision() < compactRevision) {
          throw new MvccException(MvccException.Code.COMPACTED);
        }
      } else if (op instanceof TxnRequest n) {
        checkRanges(n, path);
      }
    }
  }

  private TxnResponse doTxn(Batch b, TxnRequest t, Map<TxnRequest, Boolean> path) {
    boolean ok = path.get(t);
    List<ResponseOp> responses = new ArrayList<>();
    for (RequestOp op : ok ? t.success() : t.failure()) {
      if (op instanceof RangeRequest r) {
        long rev = r.revision() <= 0 ? b.readRevision() : r.revision();
        responses.add(rangeAt(r, rev, 0, b::scan));
      } else if (op instanceof PutRequest p) {
        responses.add(doPut(b, p));
      } else if (op instanceof DeleteRangeRequest d) {
        responses.add(doDelete(b, d));
      } else {
        responses.add(doTxn(b, (TxnRequest) op, path));
      }
    }
    return new TxnResponse(0, ok, responses);
  }

  private static ResponseOp withRevision(ResponseOp r, long rev) {
    if (r instanceof RangeResponse x) {
      return new RangeResponse(rev, x.kvs(), x.more(), x.count());
    } else if (r instanceof PutResponse x) {
      return new PutResponse(rev, x.prevKv());
    } else if (r instanceof DeleteRangeResponse x) {
      return new DeleteRangeResponse(rev, x.deleted(), x.prevKvs());
    }
    TxnResponse x = (TxnResponse) r;
    List<ResponseOp> nested = new ArrayList<>();
    for (ResponseOp n : x.responses()) {
      nested.add(withRevision(n, rev));
    }
    return new TxnResponse(rev, x.succeeded(), nested);
  }

  // ---------------------------------------------------------------- compaction

  private void scheduleCompaction(long revision) {
    compactor.execute(() -> {
      try {
        reclaim(revision);
      } catch (RocksDBException | RuntimeException e) {
        if (!closed) {
          compactionFailure = e;
        }
      }
    });
  }

  /**
   * Deletes, for each key, every version older than the newest one at or below {@code revision},
   * and that newest one too when it is a tombstone below {@code revision} (etcd keeps no deleted
   * keys past compaction). Versions at exactly {@code revision} all stay (tombstones too, and a
   * put and delete of one key in one txn) until the next compaction, so that watchers starting at
   * the compacted revision still see every event of it. A key's versions go oldest first, so a
   * half-done key never exposes an older value.
   */
  private void reclaim(long revision) throws RocksDBException {
    long deleted = 0;
    try (View view = new View(true);
        RocksIterator it = db.newIterator(kvCf, view.readOptions);
        WriteBatch batch = new WriteBatch();
        WriteOptions wo = new WriteOptions().setDisableWAL(!options.syncWrites())) {
      // Like the applier's writes, no WAL (unless syncWrites): a reclaim lost to a crash reruns,
      // while one the WAL replayed over an older flushed state would delete history that the
      // recovered compaction revision still promises.
      List<byte[]> doomed = new ArrayList<>();
      byte[] key = null;
      boolean decided = false;
      boolean keepWholeRevision = false;
      for (it.seekToFirst(); it.isValid(); it.next()) {
        if (closed) {
          return;
        }
        byte[] k = it.key();
        if (key == null || !Codec.sameKey(k, key)) {
          deleted += doom(doomed, batch, wo, revision, deleted);
          key = Codec.encodedKeyOf(k);
          decided = false;
        }
        long r = Codec.revisionOf(k);
        if (r > revision) {
          continue;
        }
        if (!decided) {
          decided = true;
          keepWholeRevision = r == revision;
          if (keepWholeRevision || !Codec.isTombstone(it.value())) {
            continue;
          }
        } else if (keepWholeRevision && r == revision) {
          continue;
        }
        doomed.add(k);
      }
      checkStatus(it);
      deleted += doom(doomed, batch, wo, revision, deleted);
      batch.put(metaCf, Codec.META_FINISHED_COMPACT_REVISION, Codec.longBytes(revision));
      db.write(wo, batch);
    }
    if (!closed) {
      options.compactionListener().onFinished(revision, deleted);
    }
  }

  /** Adds one key's doomed versions (newest first in the list) oldest first to the batch. */
  private long doom(List<byte[]> doomed, WriteBatch batch, WriteOptions wo, long revision,
      long deletedBefore) throws RocksDBException {
    long n = 0;
    for (int i = doomed.size() - 1; i >= 0; i--) {
      byte[] kvKey = doomed.get(i);
      batch.delete(kvCf, kvKey);
      batch.delete(revCf, Codec.revKey(Codec.revisionOf(kvKey), Codec.subRevisionOf(kvKey)));
      n++;
      if (batch.count() >= 2 * options.compactionBatchSize()) {
        db.write(wo, batch);
        batch.clear();
        options.compactionListener().onBatch(revision, deletedBefore + n);
      }
    }
    doomed.clear();
    return n;
  }

  /**
   * Waits until the background compactor has finished every compaction scheduled so far (for
   * orderly shutdown and tests); rethrows a compaction failure.
   */
  public void awaitBackgroundCompaction() throws InterruptedException {
    ensureOpen();
    try {
      compactor.submit(() -> { }).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    Throwable failure = compactionFailure;
    if (failure != null) {
      throw new IllegalStateException("background compaction failed in " + dir, failure);
    }
  }

  /** Number of version rows physically stored (all keys, all revisions); for tests. */
  long storedVersionCount() {
    long n = 0;
    try (RocksIterator it = db.newIterator(kvCf)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        n++;
      }
      checkStatus(it);
    }
    return n;
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    compactor.shutdown();
    try {
      if (!compactor.awaitTermination(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("compactor of " + dir + " did not stop");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      sync();
    } finally {
      closeRocksDb();
    }
  }

  private void closeRocksDb() {
    if (applyBatch != null) {
      applyBatch.close();
    }
    writeOptions.close();
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    cfOptions.close();
    blockCache.close();
    bloomFilter.close();
    dbOptions.close();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("store is closed: " + dir);
    }
  }

  private void checkStatus(RocksIterator it) {
    try {
      it.status();
    } catch (RocksDBException e) {
      throw new IllegalStateException("RocksDB read failed in " + dir + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Reads of RocksDB, optionally under a snapshot. One user at a time. */
  private final class View implements AutoCloseable {
    final ReadOptions readOptions = new ReadOptions();
    private final Snapshot snapshot;

    View(boolean pinned) {
      snapshot = pinned ? db.getSnapshot() : null;
      if (snapshot != null) {
        readOptions.setSnapshot(snapshot);
      }
    }

    /** The newest live version of {@code key} at or below {@code rev}, or null. */
    KeyValue get(Bytes key, long rev) {
      return get(key, rev, null);
    }

    /** Like {@link #get(Bytes, long)}; also puts the version's sub-revision in {@code sub[0]}. */
    KeyValue get(Bytes key, long rev, long[] sub) {
      byte[] enc = Codec.encodeKey(key.array());
      try (RocksIterator it = db.newIterator(kvCf, readOptions)) {
        it.seek(Codec.kvKeyAtOrBelow(enc, rev));
        if (!it.isValid()) {
          checkStatus(it);
          return null;
        }
        byte[] k = it.key();
        if (!Codec.sameKey(k, enc)) {
          return null;
        }
        byte[] v = it.value();
        if (sub != null) {
          sub[0] = Codec.subRevisionOf(k);
        }
        return Codec.isTombstone(v) ? null : Codec.decode(key.array(), Codec.revisionOf(k), v);
      }
    }

    /** Visits the live keys of the range at {@code rev} in key order. */
    void scan(Bytes key, Bytes rangeEnd, long rev, Consumer<KeyValue> sink) {
      if (rangeEnd.isEmpty()) {
        KeyValue kv = get(key, rev);
        if (kv != null) {
          sink.accept(kv);
        }
        return;
      }
      byte[] endEnc = rangeEnd.equals(Bytes.NUL) ? null : Codec.encodeKey(rangeEnd.array());
      if (endEnc != null && key.compareTo(rangeEnd) >= 0) {
        return;
      }
      try (RocksIterator it = db.newIterator(kvCf, readOptions)) {
        it.seek(Codec.encodeKey(key.array()));
        while (it.isValid()) {
          byte[] k = it.key();
          byte[] enc = Codec.encodedKeyOf(k);
          if (endEnc != null && Arrays.compareUnsigned(enc, endEnc) >= 0) {
            break;
          }
          if (Codec.revisionOf(k) > rev) {
            it.seek(Codec.kvKeyAtOrBelow(enc, rev));
            if (!it.isValid()) {
              break;
            }
            k = it.key();
            if (!Codec.sameKey(k, enc)) {
              continue;
            }
          }
          byte[] v = it.value();
          if (!Codec.isTombstone(v)) {
            sink.accept(Codec.decode(Codec.userKeyOf(k), Codec.revisionOf(k), v));
          }
          it.seek(Codec.kvKeyAfterAll(enc));
        }
        checkStatus(it);
      }
    }

    @Override
    public void close() {
      readOptions.close();
      if (snapshot != null) {
        db.releaseSnapshot(snapshot);
      }
    }
  }

  /** What a put needs of the version it replaces: all of it but the value, which it only sizes. */
  private record Prior(long createRevision, long modRevision, long version, long lease,
      int valueSize) {
    static Prior of(KeyValue kv) {
      return new Prior(kv.createRevision(), kv.modRevision(), kv.version(), kv.lease(),
          kv.value().size());
    }
  }

  /**
   * One apply: the RocksDB batch, the pending versions of the new revision (later ops of a txn
   * read them), the events and the in-memory changes to make once the batch is durable.
   */
  private final class Batch implements AutoCloseable {
    final WriteBatch batch = new WriteBatch();
    final View view = new View(false);
    long newRevision;
    final TreeMap<Bytes, Optional<KeyValue>> pending = new TreeMap<>();
    /** The sub-revision of each live version in {@link #pending}. */
    final Map<Bytes, Long> pendingSub = new HashMap<>();
    final List<Event> events = new ArrayList<>();
    final List<Runnable> afterCommit = new ArrayList<>();
    final TreeMap<Long, Long> frees = new TreeMap<>();
    long addedBytes;
    long freedBytes;
    int subRevision;

    boolean changed() {
      return subRevision > 0;
    }

    /** etcd storeTxnWrite: reads see this txn's writes once there are any. */
    long readRevision() {
      return changed() ? newRevision : currentRevision;
    }

    long headerRevision() {
      return changed() ? newRevision : currentRevision;
    }

    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
      try {
        batch.put(cf, key, value);
      } catch (RocksDBException e) {
        throw new IllegalStateException(e);
      }
    }

    void delete(ColumnFamilyHandle cf, byte[] key) {
      try {
        batch.delete(cf, key);
      } catch (RocksDBException e) {
        throw new IllegalStateException(e);
      }
    }

    void afterCommit(Runnable r) {
      afterCommit.add(r);
    }

    /**
     * Books {@code bytes} of a superseded version under {@code rev}, the first compaction
     * revision that frees it: a live version superseded at R (a put or delete of its key) goes
     * once the compaction revision reaches R, but never at its own revision, whose versions a
     * compaction there keeps; a tombstone at T goes once the compaction revision passes T.
     */
    void bookFree(long rev, long bytes) {
      frees.merge(rev, bytes, Long::sum);
    }

    /** Adds the quota bookkeeping to the batch; returns the new {@link #historyBytes()}. */
    long account() throws RocksDBException {
      for (Map.Entry<Long, Long> e : frees.entrySet()) {
        long rev = e.getKey();
        byte[] key = Codec.freeKey(rev);
        long old;
        if (rev == newRevision) {
          old = bookedAtNextRevision;
        } else if (rev > newRevision) {
          old = 0; // only revisions up to currentRevision + 1 have anything booked
        } else {
          byte[] stored = db.get(metaCf, key);
          old = stored == null ? 0 : Codec.getLong(stored, 0);
        }
        long total = e.getValue() + old;
        e.setValue(total);
        batch.put(metaCf, key, Codec.longBytes(total));
      }
      return historyBytes + addedBytes - freedBytes;
    }

    /** The live version of {@code key} now, including this batch's writes; null if none. */
    KeyValue current(Bytes key) {
      Optional<KeyValue> p = pending.get(key);
      if (p != null) {
        return p.orElse(null);
      }
      LatestVersions.Slot cached = latest.get(key);
      if (cached != null) {
        if (cached.absent()) {
          return null;
        }
        byte[] row = getRow(kvCf, Codec.kvKey(Codec.encodeKey(key.array()), cached.modRevision(),
            cached.subRevision()));
        KeyValue kv = row == null || Codec.isTombstone(row)
            ? null : Codec.decode(key.array(), cached.modRevision(), row);
        if (kv == null || kv.createRevision() != cached.createRevision()
            || kv.version() != cached.version() || kv.lease() != cached.lease()
            || kv.value().size() != cached.valueSize()) {
          throw new IllegalStateException("corrupt store in " + dir + ": the live version of "
              + key + " should be " + cached + " but the row there is "
              + (kv == null ? "missing" : kv.toString()));
        }
        return kv;
      }
      long[] sub = new long[1];
      KeyValue kv = view.get(key, currentRevision, sub);
      if (kv == null) {
        latest.absent(key);
      } else {
        latest.live(kv, sub[0]);
      }
      return kv;
    }

    /**
     * What a put needs of the live version of {@code key} now (all but its value), including
     * this batch's writes; null if none. Reads nothing when the applier's cache knows the key.
     */
    Prior prior(Bytes key) {
      Optional<KeyValue> p = pending.get(key);
      if (p != null) {
        return p.map(Prior::of).orElse(null);
      }
      LatestVersions.Slot cached = latest.get(key);
      if (cached != null) {
        return cached.absent() ? null : new Prior(cached.createRevision(), cached.modRevision(),
            cached.version(), cached.lease(), cached.valueSize());
      }
      KeyValue kv = current(key);
      return kv == null ? null : Prior.of(kv);
    }

    /** Scans at {@code rev}; at the new revision the pending writes overlay the stored state. */
    void scan(Bytes key, Bytes rangeEnd, long rev, Consumer<KeyValue> sink) {
      if (!changed() || rev != newRevision) {
        view.scan(key, rangeEnd, rev, sink);
        return;
      }
      List<Map.Entry<Bytes, Optional<KeyValue>>> overlay = new ArrayList<>();
      for (Map.Entry<Bytes, Optional<KeyValue>> e : pending.entrySet()) {
        if (Requests.inRange(key, rangeEnd, e.getKey())) {
          overlay.add(e);
        }
      }
      int[] i = {0};
      view.scan(key, rangeEnd, currentRevision, kv -> {
        while (i[0] < overlay.size() && overlay.get(i[0]).getKey().compareTo(kv.key()) < 0) {
          overlay.get(i[0]++).getValue().ifPresent(sink);
        }
        if (i[0] < overlay.size() && overlay.get(i[0]).getKey().equals(kv.key())) {
          overlay.get(i[0]++).getValue().ifPresent(sink);
        } else {
          sink.accept(kv);
        }
      });
      while (i[0] < overlay.size()) {
        overlay.get(i[0]++).getValue().ifPresent(sink);
      }
    }

    /**
     * Writes a new version of {@code key}. {@code prior}: what the replaced live version was
     * (null: none); {@code prev}: that version with its value, for the event, or null when
     * nobody wants it (the event then has no prevKv although the key had a version).
     */
    void putKey(Bytes key, Bytes value, long lease, Prior prior, KeyValue prev) {
      long create = prior != null ? prior.createRevision() : newRevision;
      long version = prior != null ? prior.version() + 1 : 1;
      byte[] enc = Codec.encodeKey(key.array());
      put(kvCf, Codec.kvKey(enc, newRevision, subRevision),
          Codec.record(false, create, version, lease, value.array()));
      pendingSub.put(key, (long) subRevision);
      put(revCf, Codec.revKey(newRevision, subRevision), key.array());
      subRevision++;
      addedBytes += Codec.versionBytes(key, value);
      if (prior != null) {
        bookFree(Math.max(newRevision, prior.modRevision() + 1),
            Codec.versionBytes(key.size(), prior.valueSize()));
      }
      if (prior != null && prior.lease() != 0 && prior.lease() != lease) {
        delete(leaseKeyCf, Codec.leaseKeyEntry(prior.lease(), key.array()));
      }
      if (lease != 0) {
        put(leaseKeyCf, Codec.leaseKeyEntry(lease, key.array()), NOTHING);
      }
      KeyValue kv = new KeyValue(key, create, newRevision, version, value, lease);
      pending.put(key, Optional.of(kv));
      events.add(new Event(Event.Type.PUT, kv, Optional.ofNullable(prev)));
    }

    void deleteKey(KeyValue prev) {
      Bytes key = prev.key();
      byte[] enc = Codec.encodeKey(key.array());
      put(kvCf, Codec.kvKey(enc, newRevision, subRevision),
          Codec.record(true, 0, 0, 0, NOTHING));
      put(revCf, Codec.revKey(newRevision, subRevision), key.array());
      subRevision++;
      long tombstoneBytes = Codec.versionBytes(key, Bytes.EMPTY);
      addedBytes += tombstoneBytes;
      bookFree(newRevision + 1, tombstoneBytes);
      bookFree(Math.max(newRevision, prev.modRevision() + 1),
          Codec.versionBytes(prev.key(), prev.value()));
      if (prev.lease() != 0) {
        delete(leaseKeyCf, Codec.leaseKeyEntry(prev.lease(), key.array()));
      }
      pending.put(key, Optional.empty());
      events.add(new Event(Event.Type.DELETE,
          new KeyValue(key, 0, newRevision, 0, Bytes.EMPTY, 0), Optional.of(prev)));
    }

    /** Starts the next apply: nothing of the previous one is left. */
    void reset() {
      discard();
      newRevision = currentRevision + 1;
    }

    /** Forgets everything but the appliedIndex: the request was refused. */
    void discard() {
      batch.clear();
      pending.clear();
      pendingSub.clear();
      events.clear();
      afterCommit.clear();
      frees.clear();
      addedBytes = 0;
      freedBytes = 0;
      subRevision = 0;
    }

    @Override
    public void close() {
      view.close();
      batch.close();
    }
  }
}
