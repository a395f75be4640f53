package dev.kiln.preprocess.read;

import java.io.Serializable;

/** One listed input file: its path (URI string), length in bytes and the format it is read with. */
public record InputFile(String path, long length, InputFormat format) implements Serializable {
}
