/**
 * The model zoo's test data (test_data_set_N/input_0.pb, output_0.pb: serialized TensorProtos)
 * as read from an archive. No tfjs here: the download reader (zoo.ts) runs where tfjs is not
 * loaded; testData.ts runs the check.
 */
import { type OnnxTensor, ProtoError, decodeOnnxTensor, tensorElementCount } from './proto';

export interface OnnxTestSet {
  /** Folder name, e.g. "test_data_set_0". */
  name: string;
  input: OnnxTensor;
  output: OnnxTensor;
}

export class TestDataError extends Error {
  override name = 'TestDataError';
}

/** Reads a test set's two .pb files (TensorProto). */
export function decodeTestSet(name: string, input: Uint8Array, output: Uint8Array): OnnxTestSet {
  const read = (file: string, b: Uint8Array) => {
    try {
      const t = decodeOnnxTensor(b);
      tensorElementCount(t);
      return t;
    } catch (e) {
      if (e instanceof ProtoError) throw new TestDataError(`${name}/${file} is not a readable TensorProto: ${e.message}`);
      throw e;
    }
  };
  return { name, input: read('input_0.pb', input), output: read('output_0.pb', output) };
}

