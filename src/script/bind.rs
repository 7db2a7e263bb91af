//! The binding layer: one call makes a method of a hoist type callable from scripts.
//!
//! A primitive is a plain async Rust function of a cheap-to-clone receiver (`Host`,
//! `Docker`, `Compose`, ...), its positional arguments and, for most, an option struct.
//! [`Bind`] registers it with its signature read from those types (the option struct's
//! fields become `opts: #{key, ..}`), in both arities when it takes options (the map may be
//! left out), converts the option map into the struct, runs the future on the run's runtime
//! and turns a hoist error into a script error. A binding is then one line of glue.
//!
//! What is no primitive takes the same path: a function that runs as written
//! ([`Bind::sync_fn`]: a constructor, a clock, a closure runner), a property read without a
//! call ([`Bind::property`]: `h.name`) and how a value prints ([`Bind::printed`]). Each one
//! carries its doc, so `hoist doc`, `:help` and completion know every name a script can use.
//!
//! The arity helpers say what they take: `methodN` a receiver and N arguments;
//! `methodN_optional_opts` those and an option map that may be left out;
//! `methodN_required_opts` those and a map that must be given; `functionN_optional_opts` a
//! function of N arguments (no receiver) and an optional map.

use std::any::type_name;
use std::future::Future;
use std::sync::Arc;

use rhai::{Engine, EvalAltResult, Map, RhaiNativeFunc, Variant};

use super::errors::{RhaiResult, to_rhai};
use super::options::{ScriptOptions, type_of};
use super::register::{label, with_info};
use super::state::ScriptState;

/// One property in [`Bind::properties`]: its name, its doc and how it is read.
pub type PropertyRow<'a, R, T> = (&'a str, &'a str, fn(&R) -> T);

/// Registers methods into one engine for one run.
pub struct Bind<'e> {
    pub engine: &'e mut Engine,
    pub st: Arc<ScriptState>,
    /// How the next [`Bind::sync_fn`] types its `Map` parameter (see [`Bind::taking`]).
    map_type: Option<String>,
}

/// The error side of a bound function's result: a hoist error or a script error already.
pub trait IntoScriptError {
    fn into_script(self) -> Box<EvalAltResult>;
}

impl IntoScriptError for crate::error::Error {
    fn into_script(self) -> Box<EvalAltResult> {
        to_rhai(self)
    }
}

impl IntoScriptError for Box<EvalAltResult> {
    fn into_script(self) -> Box<EvalAltResult> {
        self
    }
}

impl<'e> Bind<'e> {
    pub fn new(engine: &'e mut Engine, st: &Arc<ScriptState>) -> Self {
        Bind {
            engine,
            st: st.clone(),
            map_type: None,
        }
    }

    /// `name: Type` for each parameter; the types are the Rust ones, as scripts name them.
    fn infos(&self, names: &[&str], types: &[&str]) -> Vec<String> {
        assert_eq!(
            names.len(),
            types.len(),
            "{names:?}: a name for each of {} parameters",
            types.len()
        );
        names
            .iter()
            .zip(types)
            .map(|(n, t)| format!("{n}: {}", label(self.engine, t)))
            .collect()
    }
}

/// The parameter info of an option map: its keys, from the option type.
fn opts_info<O: ScriptOptions>() -> String {
    format!("opts: {}", super::options::type_of::<O>())
}

macro_rules! methods {
    ($plain:ident, $with_opts:ident, $needs_opts:ident; $($a:ident: $A:ident),*) => {
        /// A method of `R` whose work is a future: `f` gets a clone of the receiver and the
        /// arguments, its future runs on the run's runtime, its error becomes the script's.
        /// `params` names the receiver and each argument.
        #[allow(clippy::too_many_arguments)]
        pub fn $plain<R, $($A,)* T, E, Fut>(
            &mut self,
            name: &str,
            params: &[&str],
            doc: &str,
            f: impl Fn(R, $($A),*) -> Fut + Send + Sync + 'static,
        ) where
            R: Variant + Clone,
            $($A: Variant + Clone,)*
            T: Variant + Clone,
            E: IntoScriptError,
            Fut: Future<Output = Result<T, E>>,
        {
            let info = self.infos(params, &[type_name::<R>(), $(type_name::<$A>()),*]);
            let st = self.st.clone();
            with_info(self.engine, name, info, doc, move |r: &mut R, $($a: $A),*| -> RhaiResult<T> {
                st.rt.block_on(f(r.clone(), $($a),*)).map_err(E::into_script)
            });
        }

        /// As the plain form, with an option struct `O` last: registered with and without
        /// the map (then `O` is its defaults). `opts`'s keys in the signature are `O`'s.
        #[allow(clippy::too_many_arguments)]
        pub fn $with_opts<R, $($A,)* O, T, E, Fut>(
            &mut self,
            name: &str,
            params: &[&str],
            doc: &str,
            f: impl Fn(R, $($A,)* O) -> Fut + Send + Sync + 'static,
        ) where
            R: Variant + Clone,
            $($A: Variant + Clone,)*
            O: ScriptOptions,
            T: Variant + Clone,
            E: IntoScriptError,
            Fut: Future<Output = Result<T, E>>,
        {
            let f = Arc::new(f);
            let what = format!("{}.{name}()", params[0]);
            let info = self.infos(params, &[type_name::<R>(), $(type_name::<$A>()),*]);
            let (st, g) = (self.st.clone(), f.clone());
            with_info(self.engine, name, info, doc, move |r: &mut R, $($a: $A),*| -> RhaiResult<T> {
                let o = O::from_map(None, &what)?;
                st.rt.block_on(g(r.clone(), $($a,)* o)).map_err(E::into_script)
            });
            self.$needs_opts(name, params, doc, move |r: R, $($a: $A,)* o: O| f(r, $($a,)* o));
        }

        /// As the form with options, for a method that cannot do without them
        /// (`h.cron(name, #{schedule, command})`): registered with the map only.
        #[allow(clippy::too_many_arguments)]
        pub fn $needs_opts<R, $($A,)* O, T, E, Fut>(
            &mut self,
            name: &str,
            params: &[&str],
            doc: &str,
            f: impl Fn(R, $($A,)* O) -> Fut + Send + Sync + 'static,
        ) where
            R: Variant + Clone,
            $($A: Variant + Clone,)*
            O: ScriptOptions,
            T: Variant + Clone,
            E: IntoScriptError,
            Fut: Future<Output = Result<T, E>>,
        {
            let what = format!("{}.{name}()", params[0]);
            let mut info = self.infos(params, &[type_name::<R>(), $(type_name::<$A>()),*]);
            info.push(opts_info::<O>());
            let st = self.st.clone();
            with_info(self.engine, name, info, doc, move |r: &mut R, $($a: $A,)* opts: Map| -> RhaiResult<T> {
                let o = O::from_map(Some(opts), &what)?;
                st.rt.block_on(f(r.clone(), $($a,)* o)).map_err(E::into_script)
            });
        }
    };
}

macro_rules! functions {
    ($with_opts:ident; $($a:ident: $A:ident),*) => {
        /// A plain function (no receiver: `registry(url, opts)`) with an option struct `O`
        /// last, registered with and without the map, as the methods are.
        pub fn $with_opts<$($A,)* O, T, E, Fut>(
            &mut self,
            name: &str,
            params: &[&str],
            doc: &str,
            f: impl Fn($($A,)* O) -> Fut + Send + Sync + 'static,
        ) where
            $($A: Variant + Clone,)*
            O: ScriptOptions,
            T: Variant + Clone,
            E: IntoScriptError,
            Fut: Future<Output = Result<T, E>>,
        {
            let f = Arc::new(f);
            let what: Arc<str> = format!("{name}()").into();
            let mut info = self.infos(params, &[$(type_name::<$A>()),*]);
            let (st, g, w) = (self.st.clone(), f.clone(), what.clone());
            with_info(self.engine, name, info.clone(), doc, move |$($a: $A),*| -> RhaiResult<T> {
                let o = O::from_map(None, &w)?;
                st.rt.block_on(g($($a,)* o)).map_err(E::into_script)
            });
            info.push(opts_info::<O>());
            let st = self.st.clone();
            with_info(self.engine, name, info, doc, move |$($a: $A,)* opts: Map| -> RhaiResult<T> {
                let o = O::from_map(Some(opts), &what)?;
                st.rt.block_on(f($($a,)* o)).map_err(E::into_script)
            });
        }
    };
}

impl Bind<'_> {
    functions!(function0_optional_opts;);
    functions!(function1_optional_opts; a: A);
    methods!(method0, method0_optional_opts, method0_required_opts;);
    methods!(method1, method1_optional_opts, method1_required_opts; a: A);
    methods!(method2, method2_optional_opts, method2_required_opts; a: A, b: B);
    methods!(method3, method3_optional_opts, method3_required_opts; a: A, b: B, c: C);
}

impl<'e> Bind<'e> {
    /// A function that runs as written (quick, or blocking on the run's runtime itself): its
    /// parameter types and return type read from `f`'s own, `params` naming the parameters.
    /// A first parameter `&mut T` makes it a method of `T` (`t.close()`).
    pub fn sync_fn<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        name: &str,
        params: [&str; N],
        doc: &str,
        f: FUNC,
    ) where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let map = (type_name::<Map>(), self.map_type.take());
        let info = params
            .iter()
            .zip(FUNC::param_names())
            .map(|(p, ty)| match &map {
                (m, Some(keys)) if ty == *m => format!("{p}: {keys}"),
                _ => format!("{p}: {}", label(self.engine, ty)),
            })
            .collect();
        with_info(self.engine, name, info, doc, f);
    }

    /// For a function that reads an option map itself wherever it sits (`on(hosts, opts,
    /// body)`): `b.taking::<O>().sync_fn(..)` types that map's parameter by `O`'s keys, as a
    /// primitive's is, so the reference and completion know them.
    pub fn taking<O: ScriptOptions>(&mut self) -> &mut Self {
        self.map_type = Some(type_of::<O>());
        self
    }

    /// A property of `R`, read without a call (`h.name`); `receiver` names the value in the
    /// signature (`h`).
    pub fn property<A: 'static, const X: bool, T, const F: bool, FUNC>(
        &mut self,
        name: &str,
        receiver: &str,
        doc: &str,
        f: FUNC,
    ) where
        T: Variant + Clone,
        FUNC: RhaiNativeFunc<A, 1, X, T, F> + Send + Sync + 'static,
    {
        self.sync_fn(&format!("get${name}"), [receiver], doc, f);
    }

    /// Several properties of `R` that read as one type `T`, a row each.
    pub fn properties<R: Variant + Clone, T: Variant + Clone>(
        &mut self,
        receiver: &str,
        rows: &[PropertyRow<R, T>],
    ) {
        for &(name, doc, read) in rows {
            self.property(name, receiver, doc, move |r: &mut R| read(r));
        }
    }

    /// How a value of `R` prints: `show` for `print(x)` and `` `${x}` ``, `debug` for
    /// `debug(x)`; `shows` and `debug_shows` say what each gives.
    pub fn printed<R: Variant + Clone>(
        &mut self,
        receiver: &str,
        (shows, show): (&str, impl Fn(&mut R) -> String + Send + Sync + 'static),
        (debug_shows, debug): (&str, impl Fn(&mut R) -> String + Send + Sync + 'static),
    ) {
        let x = receiver;
        let doc = format!("What print({x}) and `${{{x}}}` show: {shows}.");
        self.sync_fn("to_string", [x], &doc, show);
        let doc = format!("What debug({x}) shows: {debug_shows}.");
        self.sync_fn("to_debug", [x], &doc, debug);
    }

    /// [`Bind::printed`] for a type whose `Debug` form (`shows`) is what a script sees of it,
    /// both ways.
    pub fn printed_as_debug<R: Variant + Clone + std::fmt::Debug>(
        &mut self,
        receiver: &str,
        shows: &str,
    ) {
        self.printed(
            receiver,
            (shows, |r: &mut R| format!("{r:?}")),
            (shows, |r: &mut R| format!("{r:?}")),
        );
    }
}
