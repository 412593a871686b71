//! ONNX Runtime: loaded at run time from pyxa's home (dlopen), once per process, and the
//! execution providers (CPU, CUDA, TensorRT) chosen explicitly: a provider that was asked for
//! and fails is an error, never a silent CPU run.

use pyxa_core::ErrorCode;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::ep::{self, ExecutionProviderDispatch};
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::Session;
use pyxa_core::{Error, Result};

/// Where inference should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda,
    Tensorrt,
    /// TensorRT or CUDA when the GPU runtime is installed and works, else CPU (reported).
    Auto,
}

impl std::str::FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            "tensorrt" | "trt" => Ok(Device::Tensorrt),
            "auto" => Ok(Device::Auto),
            other => Err(format!("unknown device {other:?} (cpu, cuda, tensorrt, auto)")),
        }
    }
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
            Device::Tensorrt => "tensorrt",
            Device::Auto => "auto",
        }
    }
}

/// The loaded runtime. Holding the environment keeps it alive for the whole process.
#[derive(Clone)]
pub struct Runtime {
    pub library: PathBuf,
    environment: ort::environment::Environment,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("library", &self.library).finish()
    }
}

static RUNTIME: OnceLock<std::result::Result<Runtime, Error>> = OnceLock::new();

/// Loads ONNX Runtime from `library` once per process. Later calls return the first result
/// (ONNX Runtime allows one environment per process, even after the first is dropped).
pub fn init(library: &Path) -> Result<Runtime> {
    RUNTIME
        .get_or_init(|| {
            if !library.is_file() {
                return Err(Error::new(
                    ErrorCode::OnnxruntimeMissing,
                    format!(
                        "ONNX Runtime library not found at {}; run `pyxa models pull` (or set PYXA_ORT_LIBRARY)",
                        library.display()
                    ),
                ));
            }
            let builder = ort::init_from(library)
                .map_err(|e| Error::new(ErrorCode::OnnxruntimeLoadFailed, format!("loading {}: {e}", library.display())))?;
            let environment = builder
                .with_name("pyxa")
                .with_telemetry(false)
                .build()
                .map_err(|e| Error::new(ErrorCode::OnnxruntimeLoadFailed, e.to_string()))?;
            Ok(Runtime { library: library.to_path_buf(), environment })
        })
        .clone()
}

/// Whether the GPU provider libraries sit beside the loaded ONNX Runtime library.
pub fn gpu_providers_present(library: &Path) -> bool {
    library.parent().map(|dir| dir.join("libonnxruntime_providers_cuda.so").is_file()).unwrap_or(false)
}

fn providers_for(device: Device) -> Vec<(&'static str, ExecutionProviderDispatch)> {
    match device {
        Device::Cpu | Device::Auto => Vec::new(),
        Device::Cuda => vec![("CUDAExecutionProvider", ep::CUDA::default().build().error_on_failure())],
        Device::Tensorrt => vec![
            ("TensorrtExecutionProvider", ep::TensorRT::default().build().error_on_failure()),
            // Nodes TensorRT cannot take run on CUDA, not on the CPU.
            ("CUDAExecutionProvider", ep::CUDA::default().build().error_on_failure()),
        ],
    }
}

/// Opens a session on `device`. Returns the session and the providers that really run it.
/// With `Device::Auto` it tries CUDA when the GPU runtime is present and falls back to CPU,
/// which the returned provider list then says.
pub fn open_session(model: &Path, device: Device, intra_threads: usize) -> Result<(Session, Vec<String>)> {
    let runtime = RUNTIME
        .get()
        .and_then(|r| r.as_ref().ok())
        .ok_or_else(|| Error::new(ErrorCode::OnnxruntimeMissing, "ONNX Runtime is not loaded"))?;
    if device == Device::Auto {
        if gpu_providers_present(&runtime.library) {
            match open_session(model, Device::Cuda, intra_threads) {
                Ok(found) => return Ok(found),
                Err(e) => tracing::warn!(error = %e, "device auto: CUDA unavailable, using CPU"),
            }
        }
        return open_session(model, Device::Cpu, intra_threads);
    }
    if matches!(device, Device::Cuda | Device::Tensorrt) && !gpu_providers_present(&runtime.library) {
        return Err(Error::new(ErrorCode::ExecutionProviderUnavailable,
            format!(
                "device {} needs the GPU build of ONNX Runtime (libonnxruntime_providers_cuda.so beside {}); run `pyxa models pull ort-gpu` and use its library",
                device.as_str(),
                runtime.library.display()
            ),
        ));
    }
    let providers = providers_for(device);
    let names: Vec<String> = providers.iter().map(|(n, _)| n.to_string()).chain(["CPUExecutionProvider".to_string()]).collect();
    let dispatches: Vec<ExecutionProviderDispatch> = providers.into_iter().map(|(_, d)| d).collect();
    let provider_error = |e: ort::Error| {
        Error::new(ErrorCode::ExecutionProviderFailed, format!("execution provider for device {} failed: {e}", device.as_str()))
    };
    let builder = Session::builder(&runtime.environment).map_err(|e| Error::new(ErrorCode::OnnxruntimeError, e.to_string()))?;
    let builder: SessionBuilder = builder
        .with_execution_providers(dispatches)
        .map_err(|e| provider_error(e.into()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| Error::new(ErrorCode::OnnxruntimeError, e.to_string()))?
        .with_intra_threads(intra_threads.max(1))
        .map_err(|e| Error::new(ErrorCode::OnnxruntimeError, e.to_string()))?
        // Spinning threads steal the cores the LLM and the other encoder need.
        .with_intra_op_spinning(false)
        .map_err(|e| Error::new(ErrorCode::OnnxruntimeError, e.to_string()))?;
    let mut builder = builder;
    let session = builder.commit_from_file(model).map_err(|e| {
        let msg = e.to_string();
        if msg.to_ascii_lowercase().contains("provider") {
            provider_error(e)
        } else {
            Error::new(ErrorCode::ModelLoadFailed, format!("{}: {msg}", model.display()))
        }
    })?;
    Ok((session, names))
}
