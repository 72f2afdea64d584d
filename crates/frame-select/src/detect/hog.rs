//! HOG + linear SVM people detector (OpenCV's default coefficients).
//! (Being implemented on the `hog` branch.)
