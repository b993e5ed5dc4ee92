package io.raftkv.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The log on disk is damaged in a way that is not a torn last write: a bad checksum followed by
 * valid data, a damaged sealed segment, or a missing segment. Thrown by
 * {@link SegmentedWal#open}; reads of a damaged entry wrap it in an
 * {@link java.io.UncheckedIOException}. Never recovered from silently, because the damaged
 * range may hold committed entries (Raft §5.4: committed entries must survive).
 */
public final class LogCorruptionException extends IOException {
    private final transient Path file;
    private final long offset;

    /**
     * Creates the exception for damage found in {@code file} at byte {@code offset}.
     *
     * @param file   the segment file (or the missing file's expected path)
     * @param offset byte offset of the first damaged byte, or -1 for a missing file
     * @param detail what was found there
     */
    public LogCorruptionException(Path file, long offset, String detail) {
        super("log corruption in " + file + (offset >= 0 ? " at offset " + offset : "") + ": " + detail);
        this.file = file;
        this.offset = offset;
    }

    /** The damaged (or missing) file. */
    public Path file() {
        return file;
    }

    /** Byte offset of the damage within {@link #file()}, or -1 if the file is missing. */
    public long offset() {
        return offset;
    }
}
