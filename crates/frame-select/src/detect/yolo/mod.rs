//! YOLOv8 person detector in Burn. (Being implemented on the `yolo` branch.)
