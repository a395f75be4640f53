package dev.kiln.preprocess.read;

import java.io.Serializable;

/**
 * One listed input file: its path (URI string), length in bytes, modification time (ms since the epoch, as the file
 * system reports it) and the format it is read with.
 */
public record InputFile(String path, long length, long modificationTime, InputFormat format) implements Serializable {
}
