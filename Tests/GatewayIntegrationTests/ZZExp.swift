import DicomCore
import DicomNetwork
import Foundation
import Testing

@Suite struct ZZExp {
    @Test func exp() throws {
        for f in ["/tmp/exp7/storage/instances/fb/1.2.826.0.1.3680043.8.498.65755303956950541193395647505331390019/1.2.826.0.1.3680043.8.498.5425349517777681392500199064673109885/1.2.826.0.1.3680043.8.498.50403976487050713137392463585811791034.dcm", "/tmp/exp7/in/000.dcm"] {
            let start = Date()
            var a = DicomAttributes()
            for _ in 0..<20 { a = try DicomFile.readAttributes(f) }
            print("YY", Date().timeIntervalSince(start) / 20 * 1000, "ms", a.count)
        }
    }
}
