// Headless Chromium (Debian's, or $CHROMIUM) as every browser test and bench launches it.
// 'webgpu' allows WebGPU (SwiftShader's adapter); 'webgl2' leaves it off, so the app falls back
// to WebGL2 and the CPU classifier; 'cpu' turns WebGL off as well, so the map is drawn by the
// CPU rasterizer. Playwright gives every launch a fresh, empty profile.
// `gpuCompositing` (benches only): the compositor runs on SwiftShader's GL too, as it does on a
// hardware GPU, instead of in software. With software compositing every canvas frame is read
// back from the GPU process inside the page's task that commits it (`GLES2::ReadPixels`,
// 110-270 ms a frame here), which no browser with a GPU does.
import { chromium } from 'playwright-core';

function args(mode, { gpuCompositing = false } = {}) {
  const args = ['--headless=new', '--no-sandbox', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  args.push(...(gpuCompositing ? ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] : ['--disable-gpu']));
  if (mode === 'webgpu') args.push('--enable-unsafe-webgpu');
  if (mode === 'cpu') args.push('--disable-webgl', '--disable-webgl2');
  return args;
}

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

export function launch(mode = 'webgl2', options = {}) {
  return chromium.launch({ executablePath, args: args(mode, options) });
}

/** A browser context with a real profile in `dir` (not incognito: Chromium installs apps only
 * from a profile, and says `in-incognito` otherwise). */
export function launchPersistent(dir, mode = 'webgl2', options = {}) {
  return chromium.launchPersistentContext(dir, { executablePath, args: args(mode), ...options });
}
